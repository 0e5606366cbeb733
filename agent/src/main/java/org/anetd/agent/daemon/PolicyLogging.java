package org.anetd.agent.daemon;

import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Supplier;
import org.anetd.agent.bpf.RingBuffer;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.EventCodec;
import org.anetd.agent.logging.LoggingContext;
import org.anetd.agent.logging.PolicyActionLogger;
import org.anetd.agent.logging.PolicyLoggingCounters;
import org.anetd.agent.logging.RotatingLogWriter;
import org.anetd.agent.metrics.AgentMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy action log of this node: a thread reads verdict events from the datapath's ring
 * buffer into the {@link PolicyActionLogger} (aggregation, rate limit), whose records go through
 * the {@link RotatingLogWriter} to the log file. Ring buffer polls time out every 200 ms, which is
 * also when deny windows that are due get closed.
 */
final class PolicyLogging implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyLogging.class);

  private final PolicyLoggingCounters counters = new PolicyLoggingCounters();
  private final RotatingLogWriter writer;
  private final PolicyActionLogger logger;
  private final RingBuffer events;
  private final Thread reader;
  private volatile boolean stopping;

  PolicyLogging(Datapath datapath, Path logFile, AgentMetrics metrics,
      Supplier<LoggingContext> context, Clock clock) {
    counters.register(metrics.registry());
    writer = new RotatingLogWriter(RotatingLogWriter.Options.defaults().withFile(logFile), counters);
    logger = new PolicyActionLogger(context, writer, counters, clock, System::nanoTime,
        PolicyActionLogger.Options.defaults());
    events = RingBuffer.open(datapath.map(Datapath.EVENTS),
        record -> logger.onEvent(EventCodec.INSTANCE.decode(record)));
    reader = new Thread(this::readLoop, "anetd-policy-events");
    reader.setDaemon(true);
  }

  PolicyLogging start() {
    writer.start();
    reader.start();
    return this;
  }

  PolicyLoggingCounters counters() {
    return counters;
  }

  private void readLoop() {
    while (!stopping) {
      try {
        events.poll(200);
        logger.tick();
      } catch (RuntimeException e) {
        LOG.warn("policy event reader: {}", e.toString());
      }
    }
  }

  @Override
  public void close() {
    stopping = true;
    try {
      reader.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (reader.isAlive()) {
      // still in a poll or a callback: the logger is the reader's alone and freeing the ring
      // buffer under a poll would crash the JVM, so both are left to the exiting process
      LOG.warn("policy event reader did not stop in 2 s: open deny windows are not flushed");
    } else {
      logger.flush();
      events.close();
    }
    writer.close();
  }
}
