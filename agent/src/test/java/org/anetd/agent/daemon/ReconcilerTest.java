package org.anetd.agent.daemon;

import static org.anetd.agent.daemon.ClusterFixtures.clusterIp;
import static org.anetd.agent.daemon.ClusterFixtures.denyIngress;
import static org.anetd.agent.daemon.ClusterFixtures.pod;
import static org.anetd.agent.daemon.ClusterFixtures.slice;
import static org.anetd.agent.daemon.ClusterFixtures.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.anetd.agent.datapath.Ct4Entry;
import org.anetd.agent.datapath.Ct4EntryCodec;
import org.anetd.agent.datapath.Ct4Key;
import org.anetd.agent.datapath.Ct4KeyCodec;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.datapath.InMemoryMapBackend;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.junit.jupiter.api.Test;

/** A pass compiles the snapshot and writes only what changed; a restart writes nothing new. */
class ReconcilerTest {
  private final InMemoryMapBackend services = new InMemoryMapBackend("lb4_services", 65536);
  private final InMemoryMapBackend backends = new InMemoryMapBackend("lb4_backends", 65536);
  private final InMemoryMapBackend revNat = new InMemoryMapBackend("lb4_reverse_nat", 65535);
  private final InMemoryMapBackend policy = new InMemoryMapBackend("policy", 65536);
  private final InMemoryMapBackend endpoints = new InMemoryMapBackend("endpoints", 65536);
  private final InMemoryMapBackend ipcache = new InMemoryMapBackend("ipcache", 65536);
  private final InMemoryMapBackend ctAny = new InMemoryMapBackend("ct4_any", 65536);
  private static final Ipv4 CLIENT = Ipv4.parse("198.18.0.5");
  private static final Map<String, Integer> LOCAL = Map.of("default/web-1", 11, "default/web-2", 12);

  private Reconciler reconciler() {
    return new Reconciler(new LoadBalancerWriter(services, backends, revNat),
        new PolicyWriter(policy, endpoints, ipcache), List.of(ctAny), ServiceCompilerConfig.defaults(),
        IdentityAllocation.EMPTY, Clock.systemUTC());
  }

  private static ClusterState cluster(long version, String... backendIps) {
    return state(version, List.of(clusterIp("default", "web", "198.19.0.10", 80, 8080)),
        List.of(slice("default", "web", 8080, backendIps)),
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web")),
            pod("default", "web-2", "198.18.0.12", Map.of("app", "web"))),
        List.of(denyIngress("default", "web")));
  }

  @Test
  void aServiceWithTwoEndpointsGetsAMasterTwoSlotsAndTwoBackends() {
    Reconciler rec = reconciler();
    Reconciler.Report r = rec.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);

    assertThat(services.size()).isEqualTo(3);
    assertThat(backends.size()).isEqualTo(2);
    assertThat(r.serviceTotals().serviceEntries()).isEqualTo(3);
    assertThat(rec.desiredServices().services())
        .containsKey(new Lb4Key(Ipv4.parse("198.19.0.10"), 80, Protocol.TCP, 0, 0));
    assertThat(endpoints.size()).isEqualTo(2);
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void aSecondPassOverTheSameSnapshotWritesNothing() {
    Reconciler rec = reconciler();
    rec.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);

    Reconciler.Report again = rec.reconcile(cluster(2, "198.18.0.11", "198.18.0.12"), LOCAL);

    assertThat(again.services().changes()).isZero();
    assertThat(again.policy().changes()).isZero();
  }

  @Test
  void aRestartedAgentKeepsServiceIdsAndWritesNothingForAnUnchangedCluster() {
    Reconciler first = reconciler();
    first.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);

    Reconciler restarted = reconciler();
    Reconciler.Report after = restarted.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);

    assertThat(after.services().changes()).isZero();
    assertThat(after.policy().changes()).isZero();
    assertThat(restarted.desiredServices().ids()).isEqualTo(first.desiredServices().ids());
  }

  @Test
  void aRestartedAgentKeepsIdentitiesNumberedOutOfSortedOrderAndWritesNoPolicy() {
    Reconciler first = reconciler();
    ClusterState webOnly = cluster(1, "198.18.0.11", "198.18.0.12");
    first.reconcile(webOnly, LOCAL);
    // a label set that sorts before app=web appears later: it gets the next id, not the first
    ClusterState withApi = state(2, webOnly.services(), webOnly.endpointSlices(),
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web")),
            pod("default", "web-2", "198.18.0.12", Map.of("app", "web")),
            pod("default", "api-1", "198.18.0.13", Map.of("app", "api"))),
        webOnly.networkPolicies());
    first.reconcile(withApi, LOCAL);

    Reconciler restarted = reconciler();
    Reconciler.Report after = restarted.reconcile(withApi, LOCAL);

    assertThat(restarted.identities()).isEqualTo(first.identities());
    assertThat(after.policy().changes()).as("no ipcache or policy entry rewritten").isZero();
  }

  /** A UDP service connection of client port {@code sport} to backend id {@code backendId}. */
  private void udpConnection(long backendId, String backend, int sport) {
    Ct4Entry forward = new Ct4Entry(Long.MAX_VALUE, 1, 60, backendId, Ipv4.parse(backend), 8080,
        1, 0, 0);
    ctAny.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(Ipv4.parse("198.19.0.10"), CLIENT, 80,
        sport, Protocol.UDP, Ct4Key.F_SERVICE)), Ct4EntryCodec.INSTANCE.encode(forward));
  }

  private long backendIdOf(Reconciler rec, String ip) {
    return rec.desiredServices().ids().backendIds().entrySet().stream()
        .filter(e -> e.getKey().address().equals(Ipv4.parse(ip))).findFirst().orElseThrow()
        .getValue();
  }

  private List<Long> backendIdsInConntrack() {
    return ctAny.entries().stream()
        .map(e -> Ct4EntryCodec.INSTANCE.decode(e.value()).backendId()).sorted().toList();
  }

  @Test
  void aRestartPurgesEntriesOfBackendsAnEarlierAgentDeletedButDidNotPurge() {
    Reconciler first = reconciler();
    first.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);
    long gone = backendIdOf(first, "198.18.0.12");
    long kept = backendIdOf(first, "198.18.0.11");
    udpConnection(gone, "198.18.0.12", 40000);
    udpConnection(kept, "198.18.0.11", 40001);
    // the earlier agent deletes .12 and is killed before its purge
    new Reconciler(new LoadBalancerWriter(services, backends, revNat),
        new PolicyWriter(policy, endpoints, ipcache), List.of(), ServiceCompilerConfig.defaults(),
        IdentityAllocation.EMPTY, Clock.systemUTC()).reconcile(cluster(2, "198.18.0.11"), LOCAL);

    Reconciler restarted = reconciler();
    Reconciler.Report r = restarted.reconcile(cluster(3, "198.18.0.11", "198.18.0.31"), LOCAL);

    assertThat(backendIdOf(restarted, "198.18.0.31")).as("the freed id goes to the new pod")
        .isEqualTo(gone);
    assertThat(backendIdsInConntrack()).as("so the old flow's entry went before it")
        .containsExactly(kept);
    assertThat(r.conntrackPurged()).isEqualTo(1);
  }

  @Test
  void aFailedPurgeIsDoneBeforeTheNextPassGivesTheIdAway() {
    Reconciler rec = reconciler();
    rec.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);
    long gone = backendIdOf(rec, "198.18.0.12");
    udpConnection(gone, "198.18.0.12", 40000);
    AtomicBoolean readFails = new AtomicBoolean(true);
    ctAny.afterRead(() -> {
      if (readFails.getAndSet(false)) {
        throw new IllegalStateException("injected: conntrack read failed");
      }
    });
    assertThatThrownBy(() -> rec.reconcile(cluster(2, "198.18.0.11"), LOCAL))
        .hasMessageContaining("injected");

    List<List<Long>> conntrackWhenBackendsWritten = new ArrayList<>();
    backends.afterEachOperation(op -> conntrackWhenBackendsWritten.add(backendIdsInConntrack()));

    Reconciler.Report r = rec.reconcile(cluster(3, "198.18.0.11", "198.18.0.31"), LOCAL);

    assertThat(backendIdOf(rec, "198.18.0.31")).isEqualTo(gone);
    assertThat(conntrackWhenBackendsWritten).as("the new owner of the id is written after the purge")
        .isNotEmpty().allSatisfy(ids -> assertThat(ids).doesNotContain(gone));
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void deletingAServiceWhoseBackendsStayPurgesItsConnectionsBeforeItsReverseNatIdIsReused() {
    ClusterState webAndApi = state(1, List.of(clusterIp("default", "web", "198.19.0.10", 80, 8080),
            clusterIp("default", "api", "198.19.0.20", 80, 8080)),
        List.of(slice("default", "web", 8080, "198.18.0.11"),
            slice("default", "api", 8080, "198.18.0.11")),
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web"))), List.of());
    Reconciler rec = reconciler();
    rec.reconcile(webAndApi, LOCAL);
    int apiRevNat = rec.desiredServices().ids().revNatIds().entrySet().stream()
        .filter(e -> e.getKey().address().equals(Ipv4.parse("198.19.0.20"))).findFirst()
        .orElseThrow().getValue();
    long backend = backendIdOf(rec, "198.18.0.11");
    ctAny.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(Ipv4.parse("198.19.0.20"), CLIENT, 80,
        40000, Protocol.UDP, Ct4Key.F_SERVICE)), Ct4EntryCodec.INSTANCE.encode(new Ct4Entry(
            Long.MAX_VALUE, 1, 60, backend, Ipv4.parse("198.18.0.11"), 8080, apiRevNat, 0, 0)));

    Reconciler.Report r = rec.reconcile(state(2,
        List.of(clusterIp("default", "web", "198.19.0.10", 80, 8080)),
        List.of(slice("default", "web", 8080, "198.18.0.11")),
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web"))), List.of()), LOCAL);

    assertThat(r.conntrackPurged()).as("api's connection, though its backend stays").isEqualTo(1);
    assertThat(ctAny.size()).isZero();
  }

  @Test
  void whenTheServicePartFailsPolicyIsStillWritten() {
    Reconciler rec = reconciler();
    rec.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);
    ctAny.afterRead(() -> {
      throw new IllegalStateException("injected: conntrack unreadable");
    });
    ClusterState newPod = state(2, List.of(clusterIp("default", "web", "198.19.0.10", 80, 8080)),
        List.of(slice("default", "web", 8080, "198.18.0.11")), // .12 removed: a purge is due
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web")),
            pod("default", "web-2", "198.18.0.12", Map.of("app", "web")),
            pod("default", "api-1", "198.18.0.13", Map.of("app", "api"))),
        List.of(denyIngress("default", "web")));

    assertThatThrownBy(() -> rec.reconcile(newPod, LOCAL))
        .isInstanceOf(Reconciler.ServicesFailed.class).hasMessageContaining("injected")
        .satisfies(e -> assertThat(((Reconciler.ServicesFailed) e).policy().endpoints()
            .values()).as("the policy written (web isolated), for the policy log")
            .anyMatch(ep -> ep.flags() != 0));

    assertThat(ipcache.entries()).extracting(e -> Ipcache4KeyCodec.INSTANCE.decode(e.key())
        .address().toString()).as("the new pod's identity").contains("198.18.0.13");
  }

  @Test
  void replacingEveryBackendWithTheMapsFullNeverFailsAWrite() {
    int limit = 6;
    InMemoryMapBackend smallServices = new InMemoryMapBackend("lb4_services", limit);
    InMemoryMapBackend smallBackends = new InMemoryMapBackend("lb4_backends", limit);
    Reconciler rec = new Reconciler(new LoadBalancerWriter(smallServices, smallBackends, revNat),
        new PolicyWriter(policy, endpoints, ipcache), List.of(ctAny),
        ServiceCompilerConfig.defaults().withLbMapMax(limit), IdentityAllocation.EMPTY,
        Clock.systemUTC());
    List<io.fabric8.kubernetes.api.model.Service> both = List.of(
        clusterIp("default", "web", "198.19.0.10", 80, 8080),
        clusterIp("default", "db", "198.19.0.20", 80, 8080));
    rec.reconcile(state(1, both, List.of(slice("default", "web", 8080, "198.18.0.11",
        "198.18.0.12", "198.18.0.13"), slice("default", "db", 8080, "198.18.0.21")),
        List.of(), List.of()), LOCAL); // 6 of 6 service entries, 4 of 6 backends
    ClusterState replaced = state(2, both, List.of(slice("default", "web", 8080, "198.18.0.31",
        "198.18.0.32", "198.18.0.33"), slice("default", "db", 8080, "198.18.0.21")),
        List.of(), List.of());

    Reconciler.Report waits = rec.reconcile(replaced, LOCAL); // 7 backends at once would not fit
    Reconciler.Report done = rec.reconcile(state(3, replaced.services(),
        replaced.endpointSlices(), List.of(), List.of()), LOCAL);

    assertThat(waits.problems()).extracting(p -> p.reason() + " " + p.object().name())
        .containsExactly("MapFull web");
    assertThat(waits.passDue()).as("room was freed: the agent runs the next pass at once").isTrue();
    assertThat(done.problems()).isEmpty();
    assertThat(done.passDue()).isFalse();
    assertThat(rec.desiredServices().backends().values()).extracting(b -> b.address().toString())
        .containsExactlyInAnyOrder("198.18.0.31", "198.18.0.32", "198.18.0.33", "198.18.0.21");
  }

  @Test
  void aServiceThatReplacesADeletedOneWithTheMapsFullNeverFailsAWrite() {
    int limit = 4;
    InMemoryMapBackend smallBackends = new InMemoryMapBackend("lb4_backends", limit);
    Reconciler rec = new Reconciler(new LoadBalancerWriter(services, smallBackends, revNat),
        new PolicyWriter(policy, endpoints, ipcache), List.of(ctAny),
        ServiceCompilerConfig.defaults().withLbMapMax(limit), IdentityAllocation.EMPTY,
        Clock.systemUTC());
    rec.reconcile(state(1, List.of(clusterIp("default", "old", "198.19.0.10", 80, 8080)),
        List.of(slice("default", "old", 8080, "198.18.0.11", "198.18.0.12", "198.18.0.13")),
        List.of(), List.of()), LOCAL); // 3 of 4 backends
    ClusterState replaced = state(2, List.of(clusterIp("default", "new", "198.19.0.20", 80, 8080)),
        List.of(slice("default", "new", 8080, "198.18.0.21", "198.18.0.22")), List.of(), List.of());

    Reconciler.Report waits = rec.reconcile(replaced, LOCAL); // old's 3 stay until the write ends
    Reconciler.Report done = rec.reconcile(state(3, replaced.services(),
        replaced.endpointSlices(), List.of(), List.of()), LOCAL);

    assertThat(waits.problems()).extracting(p -> p.reason() + " " + p.object().name())
        .containsExactly("MapFull new");
    assertThat(waits.passDue()).isTrue();
    assertThat(done.problems()).isEmpty();
    assertThat(rec.desiredServices().backends()).hasSize(2);
  }

  @Test
  void scalingDownReportsAndPurgesTheRemovedBackend() {
    Reconciler rec = reconciler();
    rec.reconcile(cluster(1, "198.18.0.11", "198.18.0.12"), LOCAL);

    Reconciler.Report r = rec.reconcile(cluster(2, "198.18.0.11"), LOCAL);

    assertThat(backends.size()).isEqualTo(1);
    assertThat(r.services().deleted()).isEqualTo(2); // slot 2 and its backend
  }
}
