package org.anetd.operator;

import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.time.Clock;

/**
 * Starts the operator: one replica, leader election off unless
 * {@code ANETD_OPERATOR_LEADER_ELECTION=true} (then a Lease {@code anetd-operator} in the pod's
 * namespace, allowed by the Role in deploy/02-rbac-operator.yaml).
 */
public final class OperatorMain {
  public static final String LEASE_NAME = "anetd-operator";

  private OperatorMain() {}

  public static void main(String[] args) {
    Operator operator = new Operator(o -> configure(o,
        "true".equalsIgnoreCase(System.getenv("ANETD_OPERATOR_LEADER_ELECTION"))));
    registerAll(operator, Clock.systemUTC());
    operator.installShutdownHook(java.time.Duration.ofSeconds(10));
    operator.start();
  }

  /** The settings shared by main and the tests. */
  public static ConfigurationServiceOverrider configure(
      ConfigurationServiceOverrider o, boolean leaderElection) {
    // Status is a JSON merge patch of a fresh object holding only the status: the whole status
    // is computed on every pass, so server-side apply would add nothing but a field manager.
    o.withUseSSAToPatchPrimaryResource(false);
    if (leaderElection) {
      o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(LEASE_NAME));
    }
    return o;
  }

  public static void registerAll(Operator operator, Clock clock) {
    operator.register(new NetworkLoggingReconciler(clock));
    operator.register(new CiliumConfigReconciler(clock));
  }
}
