package org.anetd.agent.daemon;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.anetd.agent.datapath.ConntrackPurger;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.MapBackend;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.datapath.WriteResult;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.policy.DesiredPolicy;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.policy.IdentityRecovery;
import org.anetd.agent.policy.IpcacheCompiler;
import org.anetd.agent.policy.LabelSet;
import org.anetd.agent.policy.PolicyCompiler;
import org.anetd.agent.service.DesiredServices;
import org.anetd.agent.service.HealthCheck;
import org.anetd.agent.service.IncrementalServiceCompiler;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.anetd.agent.service.ServiceIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of the agent: compile a {@link ClusterState} into desired map contents (pure) and write
 * the difference (the only writer of the maps). It carries the id allocations from pass to pass;
 * at construction it recovers service ids from the maps, so a restarted agent keeps the ids that
 * conntrack entries hold. A backend id is given to a new backend only after the conntrack entries
 * of its former owner are purged, also when that purge was interrupted (a kill, a failed write or
 * purge): such entries would otherwise follow the new backend.
 */
public final class Reconciler {
  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
  /**
   * What one pass did. {@code passDue}: Services were skipped or kept for want of room and this
   * pass deleted entries, so another pass may admit them now (without one it would wait for the
   * next change in the cluster).
   */
  public record Report(long version, WriteResult services, WriteResult policy, int conntrackPurged,
      List<Problem> problems, Map<Integer, HealthCheck> healthChecks,
      IncrementalServiceCompiler.Totals serviceTotals, DesiredPolicy desiredPolicy,
      Map<Ipcache4Key, Ipcache4Value> ipcache, Duration compileTime, Duration writeTime,
      boolean passDue) {}

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
  /**
   * Set at start and after a failed write: conntrack entries of backends deleted but not purged
   * (an earlier agent was killed in between, or a write failed after it deleted some) are removed
   * before any id is given to a new backend.
   */
  private boolean orphanPurgeDue = true;
  /** Backends deleted from the maps whose conntrack entries are not purged yet (a purge failed). */
  private final Set<Long> unpurgedBackends = new HashSet<>();
  /** The same for reverse NAT ids of frontend addresses that are gone. */
  private final Set<Integer> unpurgedRevNat = new HashSet<>();
  private IdentityAllocation identities;
  /** Set at start: the first policy pass numbers identities as the ipcache has them. */
  private boolean identitiesFromIpcache = true;
  private PolicyPass lastPolicy;
  /** The last compiled policy sets: a set keeps its id from pass to pass. */
  private Map<Long, List<ObjectRef>> policySets = Map.of();

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
   * are different objects than in the last written pass. The two are independent: when the
   * service part fails (a map full, a purge failing), policy is still written, and then a
   * {@link ServicesFailed} is thrown.
   */
  public synchronized Report reconcile(ClusterState state, Map<String, Integer> localEndpoints) {
    Instant start = clock.instant();
    PolicyInputs policyInputs = PolicyInputs.of(state, localEndpoints, enforcement);
    boolean policyUnchanged = policyInputs.sameAs(lastPolicy == null ? null : lastPolicy.inputs());
    PolicyPass policyPass = policyUnchanged ? lastPolicy : compilePolicy(state, policyInputs);

    RuntimeException serviceFailure = null;
    IncrementalServiceCompiler.Pass servicePass = null;
    LoadBalancerWriter.Result lbResult = null;
    int purged = 0;
    try {
      // before anything is compiled: a freed id may go to a new backend in this pass
      purged = purgeLeftovers();
      servicePass = services.compile(state, serviceConfig);
      lbResult = writeServices(servicePass);
      purged += purgeRemoved();
    } catch (RuntimeException e) {
      serviceFailure = e;
    }
    Instant compiled = clock.instant();
    WriteResult policyWrites = WriteResult.NONE;
    if (!policyUnchanged) {
      lastPolicy = null; // a failed write must be compiled and written again
      policyWrites = policy.write(policyPass.desired().entries(),
          policyPass.desired().endpoints(), policyPass.ipcache());
      identities = policyPass.desired().identities().allocation();
      lastPolicy = policyPass;
    }
    if (serviceFailure != null) {
      throw new ServicesFailed(serviceFailure, policyPass.desired());
    }
    Instant written = clock.instant();

    List<Problem> problems = new ArrayList<>(servicePass.problems());
    problems.addAll(policyPass.desired().problems());
    boolean passDue = lbResult.writes().deleted() > 0 && servicePass.problems().stream()
        .anyMatch(p -> p.reason() == Reason.MapFull);
    return new Report(state.version(), lbResult.writes(), policyWrites, purged,
        List.copyOf(problems), servicePass.healthChecks(), servicePass.totals(),
        policyPass.desired(), policyPass.ipcache(), Duration.between(start, compiled),
        Duration.between(compiled, written), passDue);
  }

  /**
   * A pass whose service part failed after its policy part was written: pods of the node have
   * their ipcache and policy entries (a CNI ADD waiting for them may go on); the service maps
   * keep their last state and the pass is to be retried.
   */
  public static final class ServicesFailed extends RuntimeException {
    private final transient DesiredPolicy policy;

    ServicesFailed(RuntimeException cause, DesiredPolicy policy) {
      super("services not written: " + cause.getMessage(), cause);
      this.policy = policy;
    }

    /** The policy the pass wrote (its policy sets are what verdict events now name). */
    public DesiredPolicy policy() {
      return policy;
    }
  }

  /** Writes a compiled service pass, commits its ids and notes what must be purged. */
  private LoadBalancerWriter.Result writeServices(IncrementalServiceCompiler.Pass servicePass) {
    LoadBalancerWriter.Result lbResult;
    try {
      lbResult = serviceMapsNeedFullWrite
          ? lb.write(services.desiredServices(), services.desiredBackends(),
              services.desiredRevNat())
          : lb.apply(servicePass.changes());
    } catch (RuntimeException e) {
      // Not committed: the ids of this pass stay held back, and the next pass writes it all.
      // Backends it deleted before it failed are not reported: the next pass looks for orphans.
      serviceMapsNeedFullWrite = true;
      orphanPurgeDue = true;
      throw e;
    }
    services.committed();
    serviceMapsNeedFullWrite = false;
    // kept until the purge is done: if it fails, the next pass purges before it writes anything
    unpurgedBackends.addAll(lbResult.removedBackends().keySet());
    unpurgedRevNat.addAll(lbResult.removedRevNat());
    return lbResult;
  }

  /**
   * The purges an earlier pass or agent left undone: entries of backends no longer in the backend
   * map (once, at start) and of backends whose purge failed. Throws, writing nothing, while they
   * fail: ids of purged backends must not go to new ones before the purge.
   */
  private int purgeLeftovers() {
    int purged = 0;
    if (orphanPurgeDue) {
      Set<Long> liveBackends = Set.copyOf(lb.backends().keySet());
      Set<Integer> liveRevNat = Set.copyOf(lb.revNat().keySet());
      for (MapBackend table : conntrack) {
        purged += ConntrackPurger.purgeOrphans(table, liveBackends, liveRevNat);
      }
      orphanPurgeDue = false;
      if (purged > 0) {
        LOG.info("{} conntrack entries of backends or frontends no longer in the maps purged (a"
            + " purge an earlier agent or a failed write left undone)", purged);
      }
    }
    return purged + purgeRemoved();
  }

  /** Purges the entries of {@link #unpurgedBackends} and {@link #unpurgedRevNat}, then forgets them. */
  private int purgeRemoved() {
    if (unpurgedBackends.isEmpty() && unpurgedRevNat.isEmpty()) {
      return 0;
    }
    int purged = 0;
    for (MapBackend table : conntrack) {
      purged += ConntrackPurger.purge(table, unpurgedBackends, unpurgedRevNat);
    }
    unpurgedBackends.clear();
    unpurgedRevNat.clear();
    return purged;
  }

  private PolicyPass compilePolicy(ClusterState state, PolicyInputs inputs) {
    if (identitiesFromIpcache) {
      // an earlier agent's numbering, where the ipcache has one; the identities given at
      // construction still win for the label sets they name
      IdentityAllocation recovered = IdentityRecovery.recover(state, policy.ipcache());
      TreeMap<LabelSet, Long> merged = new TreeMap<>(recovered.ids());
      merged.keySet().removeAll(identities.ids().keySet());
      merged.values().removeAll(identities.ids().values());
      merged.putAll(identities.ids());
      identities = new IdentityAllocation(merged);
      identitiesFromIpcache = false;
    }
    DesiredPolicy desired = PolicyCompiler.compile(state, inputs.localEndpoints(), identities,
        inputs.enforcement(), policySets);
    policySets = desired.policySets(); // compiled ids may be written in part even if a write fails
    SortedMap<Ipcache4Key, Ipcache4Value> ipcache =
        IpcacheCompiler.compile(state, desired.identities(), inputs.localEndpoints());
    return new PolicyPass(inputs, desired, ipcache);
  }

  /** The whole desired service state, sorted (a copy: for tests and diagnostics). */
  public synchronized DesiredServices desiredServices() {
    return services.desired();
  }
}
