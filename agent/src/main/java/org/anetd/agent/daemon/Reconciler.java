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
import org.anetd.agent.service.ServiceCompiler;
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
      List<Problem> problems, Map<Integer, HealthCheck> healthChecks, DesiredServices desiredServices,
      DesiredPolicy desiredPolicy, Map<Ipcache4Key, Ipcache4Value> ipcache, Duration compileTime,
      Duration writeTime) {}

  private final LoadBalancerWriter lb;
  private final PolicyWriter policy;
  private final List<MapBackend> conntrack;
  private final Clock clock;
  private ServiceCompilerConfig serviceConfig;
  private PolicyCompiler.Enforcement enforcement = PolicyCompiler.Enforcement.DEFAULT;
  private ServiceIds serviceIds;
  private IdentityAllocation identities;

  public Reconciler(LoadBalancerWriter lb, PolicyWriter policy, List<MapBackend> conntrack,
      ServiceCompilerConfig serviceConfig, IdentityAllocation identities, Clock clock) {
    this.lb = lb;
    this.policy = policy;
    this.conntrack = List.copyOf(conntrack);
    this.serviceConfig = serviceConfig;
    this.identities = identities;
    this.clock = clock;
    this.serviceIds = ServiceIds.recover(lb.services(), lb.backends());
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

  public synchronized Report reconcile(ClusterState state, Map<String, Integer> localEndpoints) {
    Instant start = clock.instant();
    DesiredServices services = ServiceCompiler.compile(state, serviceConfig, serviceIds);
    DesiredPolicy desiredPolicy = PolicyCompiler.compile(state, localEndpoints, identities,
        enforcement);
    SortedMap<Ipcache4Key, Ipcache4Value> ipcache =
        IpcacheCompiler.compile(state, desiredPolicy.identities(), localEndpoints);
    Instant compiled = clock.instant();

    LoadBalancerWriter.Result lbResult = lb.write(services.services(), services.backends(),
        services.revNat());
    // Ids are committed only once their entries are written: a failed write retries with the
    // previous allocation, which the maps still reflect.
    serviceIds = services.ids();
    int purged = 0;
    for (MapBackend table : conntrack) {
      purged += ConntrackPurger.purge(table, lbResult.removedBackends().keySet());
    }
    WriteResult policyWrites = policy.write(desiredPolicy.entries(), desiredPolicy.endpoints(),
        ipcache);
    identities = desiredPolicy.identities().allocation();
    Instant written = clock.instant();

    List<Problem> problems = new ArrayList<>(services.problems());
    problems.addAll(desiredPolicy.problems());
    return new Report(state.version(), lbResult.writes(), policyWrites, purged,
        List.copyOf(problems), services.healthChecks(), services, desiredPolicy, ipcache,
        Duration.between(start, compiled), Duration.between(compiled, written));
  }
}
