/**
 * The logging room: the datapath's policy verdict events -> GKE Dataplane V2's policy action log
 * ({@code /var/log/network/policy_action.log}, one JSON line per allowed connection or per
 * aggregated denial; format in docs/policy-action-log-format.md).
 *
 * <p>Entry point: {@link org.anetd.agent.logging.PolicyActionLogger}, fed by the ring buffer
 * reader thread:
 *
 * <pre>
 * PolicyLoggingCounters counters = new PolicyLoggingCounters();
 * counters.register(metrics.registry());
 * RotatingLogWriter writer = new RotatingLogWriter(RotatingLogWriter.Options.defaults(), counters);
 * writer.start();
 * PolicyActionLogger logger = new PolicyActionLogger(currentContext, writer, counters,
 *     Clock.systemUTC(), System::nanoTime, PolicyActionLogger.Options.defaults());
 * // reader loop: logger.onEvent(EventCodec.INSTANCE.decode(bytes)); logger.tick() every poll
 * </pre>
 *
 * <p>The pipeline, pure until the last step: {@link org.anetd.agent.logging.LoggingSettings}
 * (from the NetworkLogging object) filters; {@link org.anetd.agent.logging.EndpointResolver} names
 * the peers; deny windows aggregate; a token bucket limits records per second; {@link
 * org.anetd.agent.logging.PolicyActionFormatter} formats; {@link
 * org.anetd.agent.logging.RotatingLogWriter} (the only I/O) appends and rotates. Every record
 * generated is written or dropped with a reason ({@link
 * org.anetd.agent.logging.PolicyLoggingCounters}).
 *
 * <p>Dependencies: datapath records ({@code Event}, {@code Ipv4}, {@code Protocol}, {@code
 * PolicyKey} direction constants), k8s ({@code ClusterState}, {@code ObjectRef}) and the policy
 * sets of {@code DesiredPolicy} (passed in as a map, so no import of the policy room). Nothing
 * depends on this package but daemon/ and cli/, which wire it to the ring buffer.
 */
package org.anetd.agent.logging;
