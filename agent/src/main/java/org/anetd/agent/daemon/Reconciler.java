package org.anetd.agent.daemon;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.anetd.agent.datapath.ConntrackPurger;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.MapBackend;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.datapath.WriteResult;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.policy.DesiredPolicy;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.policy.IpcacheCompiler;
import org.anetd.agent.policy.PolicyCompiler;
import org.anetd.agent.service.DesiredServices;
import org.anetd.agent.service.HealthCheck;
import org.anetd.agent.service.IncrementalServiceCompiler;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.anetd.agent.service.ServiceIds;

/**
 * One pass of the agent: compile a {@link ClusterState} into desired map contents (pure) and write
 * the difference (the only writer of the maps). It carries the id allocations from pass to pass;
 * at construction it recovers service ids from the maps, so a restarted agent keeps the ids that
 * conntrack entries hold.
 */
public final class Reconciler {
  /** What one pass did. */
  public record Report(long version, WriteResult services, WriteResult policy, int conntrackPurged,
      List<Problem> problems, Map<Integer, HealthCheck> healthChecks,
      IncrementalServiceCompiler.Totals serviceTotals, DesiredPolicy desiredPolicy,
      Map<Ipcache4Key, Ipcache4Value> ipcache, Duration compileTime, Duration writeTime) {}

  /** The inputs of the last policy pass that was written, compared by identity. */
  private record PolicyInputs(List<?> pods, List<?> namespaces, List<?> networkPolicies,
      List<?> nodes, Map<String, Integer> localEndpoints, PolicyCompiler.Enforcement enforcement) {
    static PolicyInputs of(ClusterState s, Map<String, Integer> localEndpoints,
        PolicyCompiler.Enforcement enforcement) {
      return new PolicyInputs(s.pods(), s.namespaces(), s.networkPolicies(), s.nodes(),
          Map.copyOf(localEndpoints), enforcement);
    }

    boolean sameAs(PolicyInputs o) {
      return o != null && pods == o.pods && namespaces == o.namespaces
          && networkPolicies == o.networkPolicies && nodes == o.nodes
          && localEndpoints.equals(o.localEndpoints) && enforcement == o.enforcement;
    }
  }

  /** What the last written policy pass produced, reused while its inputs stay the same. */
  private record PolicyPass(PolicyInputs inputs, DesiredPolicy desired,
      SortedMap<Ipcache4Key, Ipcache4Value> ipcache) {}

  private final LoadBalancerWriter lb;
  private final PolicyWriter policy;
  private final List<MapBackend> conntrack;
  private final Clock clock;
  private ServiceCompilerConfig serviceConfig;
  private PolicyCompiler.Enforcement enforcement = PolicyCompiler.Enforcement.DEFAULT;
  private final IncrementalServiceCompiler services;
  /** Set at start (the maps hold what an earlier agent wrote) and after a failed write. */
  private boolean serviceMapsNeedFullWrite = true;
  private IdentityAllocation identities;
  private PolicyPass lastPolicy;

  public Reconciler(LoadBalancerWriter lb, PolicyWriter policy, List<MapBackend> conntrack,
      ServiceCompilerConfig serviceConfig, IdentityAllocation identities, Clock clock) {
    this.lb = lb;
    this.policy = policy;
    this.conntrack = List.copyOf(conntrack);
    this.serviceConfig = serviceConfig;
    this.identities = identities;
    this.clock = clock;
    this.services = new IncrementalServiceCompiler(
        ServiceIds.recover(lb.services(), lb.backends()));
  }

  /** Applies to the next pass (e.g. after cilium-config changed node-port-range). */
  public synchronized void serviceConfig(ServiceCompilerConfig config) {
    this.serviceConfig = config;
  }

  /** Applies to the next pass (cilium-config enable-policy). */
  public synchronized void enforcement(PolicyCompiler.Enforcement mode) {
    this.enforcement = mode;
  }

  public synchronized IdentityAllocation identities() {
    return identities;
  }

  /**
   * One pass. Services are compiled incrementally and only their changes are written (the whole
   * desired state after a failed write or at start); policy is compiled again only when its inputs
   * are different objects than in the last written pass.
   */
  public synchronized Report reconcile(ClusterState state, Map<String, Integer> localEndpoints) {
    Instant start = clock.instant();
    IncrementalServiceCompiler.Pass servicePass = services.compile(state, serviceConfig);
    PolicyInputs policyInputs = PolicyInputs.of(state, localEndpoints, enforcement);
    boolean policyUnchanged = policyInputs.sameAs(lastPolicy == null ? null : lastPolicy.inputs());
    PolicyPass policyPass = policyUnchanged ? lastPolicy : compilePolicy(state, policyInputs);
    Instant compiled = clock.instant();

    LoadBalancerWriter.Result lbResult;
    try {
      lbResult = serviceMapsNeedFullWrite
          ? lb.write(services.desiredServices(), services.desiredBackends(),
              services.desiredRevNat())
          : lb.apply(servicePass.changes());
    } catch (RuntimeException e) {
      // Not committed: the ids of this pass stay held back, and the next pass writes it all.
      serviceMapsNeedFullWrite = true;
      throw e;
    }
    services.committed();
    serviceMapsNeedFullWrite = false;
    int purged = 0;
    for (MapBackend table : conntrack) {
      purged += ConntrackPurger.purge(table, lbResult.removedBackends().keySet());
    }
    WriteResult policyWrites = WriteResult.NONE;
    if (!policyUnchanged) {
      lastPolicy = null; // a failed write must be compiled and written again
      policyWrites = policy.write(policyPass.desired().entries(),
          policyPass.desired().endpoints(), policyPass.ipcache());
      identities = policyPass.desired().identities().allocation();
      lastPolicy = policyPass;
    }
    Instant written = clock.instant();

    List<Problem> problems = new ArrayList<>(servicePass.problems());
    problems.addAll(policyPass.desired().problems());
    return new Report(state.version(), lbResult.writes(), policyWrites, purged,
        List.copyOf(problems), servicePass.healthChecks(), servicePass.totals(),
        policyPass.desired(), policyPass.ipcache(), Duration.between(start, compiled),
        Duration.between(compiled, written));
  }

  private PolicyPass compilePolicy(ClusterState state, PolicyInputs inputs) {
    DesiredPolicy desired = PolicyCompiler.compile(state, inputs.localEndpoints(), identities,
        inputs.enforcement());
    SortedMap<Ipcache4Key, Ipcache4Value> ipcache =
        IpcacheCompiler.compile(state, desired.identities(), inputs.localEndpoints());
    return new PolicyPass(inputs, desired, ipcache);
  }

  /** The whole desired service state, sorted (a copy: for tests and diagnostics). */
  public synchronized DesiredServices desiredServices() {
    return services.desired();
  }
}
