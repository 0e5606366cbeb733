package org.anetd.agent.service;

import static org.anetd.agent.service.ServiceFixtures.THIS_NODE;
import static org.anetd.agent.service.ServiceFixtures.address;
import static org.anetd.agent.service.ServiceFixtures.clusterIp;
import static org.anetd.agent.service.ServiceFixtures.endpoint;
import static org.anetd.agent.service.ServiceFixtures.node;
import static org.anetd.agent.service.ServiceFixtures.ready;
import static org.anetd.agent.service.ServiceFixtures.slice;
import static org.anetd.agent.service.ServiceFixtures.slicePort;
import static org.anetd.agent.service.ServiceFixtures.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.anetd.agent.datapath.LbChanges;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The incremental compiler against the reference: over random histories of Services, slices,
 * nodes and map limits (with address and healthCheckNodePort conflicts, capacity pressure and
 * objects replaced by equal copies), every pass must give exactly {@link ServiceCompiler#compile}'s
 * maps, ids, problems and health checks, and its changes must turn the previous maps into them.
 */
class IncrementalServiceCompilerTest {
  private static final int SERVICES = 14;
  private static final java.util.Comparator<io.fabric8.kubernetes.api.model.HasMetadata> BY_NAME =
      java.util.Comparator.comparing(
          (io.fabric8.kubernetes.api.model.HasMetadata o) -> o.getMetadata().getNamespace())
          .thenComparing(o -> o.getMetadata().getName());

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void everyPassEqualsTheReferenceCompileAndItsChangesRebuildTheMaps(long seed) {
    Random random = new Random(seed);
    History history = new History(random);
    IncrementalServiceCompiler incremental = new IncrementalServiceCompiler(ServiceIds.empty());
    Maps written = new Maps();
    java.util.Set<String> seen = new java.util.HashSet<>();
    java.util.Map<org.anetd.agent.k8s.ObjectRef, ServiceCompiler.ServicePlan> lastAdmitted =
        java.util.Map.of();

    for (int pass = 1; pass <= 120; pass++) {
      history.step();
      ClusterState state = history.state(pass);
      ServiceCompilerConfig config = history.config();
      ServiceIds before = incremental.ids();

      IncrementalServiceCompiler.Pass out = incremental.compile(state, config);
      ServiceCompiler.Compiled compiled = ServiceCompiler.compile(state, config, before,
          lastAdmitted);
      DesiredServices reference = compiled.desired();

      String at = "seed " + seed + " pass " + pass;
      assertThat(incremental.desiredServices()).as(at).isEqualTo(reference.services());
      assertThat(new TreeMap<>(incremental.desiredBackends())).as(at)
          .isEqualTo(reference.backends());
      assertThat(new TreeMap<>(incremental.desiredRevNat())).as(at).isEqualTo(reference.revNat());
      assertThat(incremental.ids()).as(at).isEqualTo(reference.ids());
      assertThat(sorted(out.problems())).as(at).isEqualTo(sorted(reference.problems()));
      assertThat(out.healthChecks()).as(at).isEqualTo(reference.healthChecks());
      assertThat(out.totals().services()).as(at).isEqualTo(reference.frontends().size());

      written.apply(out.changes());
      assertThat(written.services).as(at).isEqualTo(reference.services());
      assertThat(written.backends).as(at).isEqualTo(reference.backends());
      assertThat(written.revNat).as(at).isEqualTo(reference.revNat());
      incremental.committed();
      lastAdmitted = compiled.admitted();
      out.problems().forEach(p -> seen.add(p.reason() + (p.message().contains("healthCheck")
          ? " healthCheckNodePort" : "")));
    }
    // The history must have reached the interesting cases, or this test proves little.
    assertThat(seen).as("problem kinds met over seed %d", seed)
        .contains("PortConflict", "MapFull");
  }

  @Test
  void aPassOverEqualCopiesOfEveryObjectChangesNothing() {
    Random random = new Random(99);
    History history = new History(random);
    for (int i = 0; i < 5; i++) {
      history.step();
    }
    IncrementalServiceCompiler incremental = new IncrementalServiceCompiler(ServiceIds.empty());
    incremental.compile(history.state(1), history.config());
    incremental.committed();

    history.copyEverything();
    IncrementalServiceCompiler.Pass again = incremental.compile(history.state(2), history.config());

    Maps written = new Maps();
    written.apply(again.changes());
    assertThat(again.changes().serviceDeletes()).isEmpty();
    assertThat(again.changes().backendDeletes()).isEmpty();
    assertThat(again.changes().revNatDeletes()).isEmpty();
  }

  @Test
  void anUntouchedServiceIsNotRenderedAgain() {
    Service web = clusterIp("web", "10.96.0.10", tcp(80, 8080));
    Service api = clusterIp("api", "10.96.0.11", tcp(80, 8080));
    EndpointSlice webSlice = slice("web", "web-a", List.of(slicePort(null, 8080, "TCP")),
        ready("10.0.0.1", THIS_NODE));
    EndpointSlice apiSlice = slice("api", "api-a", List.of(slicePort(null, 8080, "TCP")),
        ready("10.0.0.2", THIS_NODE));
    IncrementalServiceCompiler incremental = new IncrementalServiceCompiler(ServiceIds.empty());
    incremental.compile(ServiceFixtures.state(List.of(web, api), List.of(webSlice, apiSlice)),
        ServiceCompilerConfig.defaults());
    incremental.committed();

    EndpointSlice scaled = slice("api", "api-a", List.of(slicePort(null, 8080, "TCP")),
        ready("10.0.0.2", THIS_NODE), ready("10.0.0.3", THIS_NODE));
    IncrementalServiceCompiler.Pass pass = incremental.compile(
        ServiceFixtures.state(List.of(web, api), List.of(webSlice, scaled)),
        ServiceCompilerConfig.defaults());

    assertThat(pass.changes().serviceUpserts().keySet())
        .allMatch(k -> k.address().toString().equals("10.96.0.11"));
    assertThat(pass.changes().backendUpserts()).hasSize(2);
  }

  private static List<String> sorted(List<Problem> problems) {
    return problems.stream().map(Problem::toString).sorted().toList();
  }

  /** A model of the three maps, changed only through {@link LbChanges}. */
  private static final class Maps {
    final Map<org.anetd.agent.datapath.Lb4Key, org.anetd.agent.datapath.Lb4Service> services =
        new TreeMap<>(DesiredServices.KEY_ORDER);
    final Map<Long, org.anetd.agent.datapath.Lb4Backend> backends = new TreeMap<>();
    final Map<Integer, org.anetd.agent.datapath.Lb4ReverseNat> revNat = new TreeMap<>();

    void apply(LbChanges c) {
      assertThat(c.serviceDeletes()).noneMatch(c.serviceUpserts()::containsKey);
      assertThat(c.backendDeletes()).noneMatch(c.backendUpserts()::containsKey);
      assertThat(c.revNatDeletes()).noneMatch(c.revNatUpserts()::containsKey);
      services.putAll(c.serviceUpserts());
      c.serviceDeletes().forEach(services::remove);
      backends.putAll(c.backendUpserts());
      c.backendDeletes().forEach(backends::remove);
      revNat.putAll(c.revNatUpserts());
      c.revNatDeletes().forEach(revNat::remove);
    }
  }

  /** Random Services (from small address pools, so they collide) and their slices. */
  private static final class History {
    private final Random random;
    private final Map<Integer, Service> services = new HashMap<>();
    private final Map<Integer, List<EndpointSlice>> slices = new HashMap<>();
    private List<EndpointSlice> orphans = List.of();
    private List<Service> lastServices = List.of();
    private List<EndpointSlice> lastSlices = List.of();
    private Node node = node(THIS_NODE, address("InternalIP", "192.168.0.1"));
    private int lbMapMax = 65536;

    History(Random random) {
      this.random = random;
    }

    void step() {
      int changes = 1 + random.nextInt(4);
      for (int i = 0; i < changes; i++) {
        int s = random.nextInt(SERVICES);
        switch (random.nextInt(10)) {
          case 0 -> services.remove(s);
          case 1, 2, 3 -> services.put(s, randomService(s));
          case 4 -> slices.remove(s);
          default -> slices.put(s, randomSlices(s));
        }
      }
      if (random.nextInt(15) == 0) {
        node = random.nextBoolean() ? node(THIS_NODE, address("InternalIP", "192.168.0.1"))
            : node(THIS_NODE, address("InternalIP", "192.168.0.1"),
                address("ExternalIP", "203.0.113.9"));
      }
      if (random.nextInt(12) == 0) {
        lbMapMax = random.nextBoolean() ? 65536 : 8 + random.nextInt(40);
      }
      if (random.nextInt(10) == 0) {
        orphans = random.nextBoolean() ? List.of()
            : List.of(slice("ghost", "ghost-a", List.of(slicePort(null, 70000, "TCP")),
                ready("10.0.9.9", THIS_NODE)));
      }
    }

    /** Replaces every object by an equal copy (a relist after a reconnect). */
    void copyEverything() {
      services.replaceAll((i, s) -> new ServiceBuilder(s).build());
      slices.replaceAll((i, list) -> list.stream()
          .map(x -> new io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder(x)
              .build())
          .toList());
    }

    /**
     * The snapshot as ClusterStateSource builds it: lists sorted by namespace and name, and the
     * same list object for a kind that did not change.
     */
    ClusterState state(long version) {
      List<Service> all = new ArrayList<>(services.values());
      all.sort(BY_NAME);
      List<EndpointSlice> allSlices = new ArrayList<>(orphans);
      slices.values().forEach(allSlices::addAll);
      allSlices.sort(BY_NAME);
      if (!sameObjects(all, lastServices)) {
        lastServices = List.copyOf(all);
      }
      if (!sameObjects(allSlices, lastSlices)) {
        lastSlices = List.copyOf(allSlices);
      }
      return new ClusterState(version, THIS_NODE, lastServices, lastSlices, List.of(), List.of(),
          List.of(), List.of(node));
    }

    private static boolean sameObjects(List<?> a, List<?> b) {
      if (a.size() != b.size()) {
        return false;
      }
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i) != b.get(i)) {
          return false;
        }
      }
      return true;
    }

    ServiceCompilerConfig config() {
      return new ServiceCompilerConfig(lbMapMax, ServiceCompilerConfig.NodePortRange.DEFAULT);
    }

    private Service randomService(int s) {
      String type = List.of("ClusterIP", "ClusterIP", "NodePort", "LoadBalancer")
          .get(random.nextInt(4));
      String vip = "10.96.0." + (10 + random.nextInt(8)); // 8 addresses for 14 Services
      List<ServicePort> ports = new ArrayList<>();
      ports.add(ServiceFixtures.port("http", 80, "TCP", new IntOrString("web")));
      if (random.nextBoolean()) {
        ports.add(ServiceFixtures.port("dns", 53, "UDP", 5353));
      }
      if (!type.equals("ClusterIP")) {
        ports.set(0, ServiceFixtures.withNodePort(ports.get(0), 30000 + random.nextInt(4)));
      }
      ServiceBuilder b = new ServiceBuilder(ServiceFixtures.service("svc-" + s, type, vip,
          ports.toArray(ServicePort[]::new)));
      b.editMetadata().withCreationTimestamp("2026-01-0" + (1 + random.nextInt(3)) + "T00:00:00Z")
          .endMetadata();
      if (random.nextInt(3) == 0) {
        b.editSpec().withExternalIPs("198.51.100." + random.nextInt(3)).endSpec();
      }
      if (type.equals("LoadBalancer") && random.nextBoolean()) {
        b.editSpec().withExternalTrafficPolicy("Local")
            .withHealthCheckNodePort(32000 + random.nextInt(3)).endSpec();
        b.withNewStatus().withNewLoadBalancer().addNewIngress()
            .withIp("203.0.113." + random.nextInt(3)).endIngress().endLoadBalancer().endStatus();
      }
      if (random.nextInt(4) == 0) {
        b.editSpec().withSessionAffinity("ClientIP").endSpec();
      }
      if (random.nextInt(5) == 0) {
        b.editSpec().withInternalTrafficPolicy("Local").endSpec();
      }
      if (random.nextInt(20) == 0) {
        b.editSpec().withClusterIP("None").withClusterIPs("None").endSpec();
      }
      return b.build();
    }

    private List<EndpointSlice> randomSlices(int s) {
      List<EndpointSlice> out = new ArrayList<>();
      int count = random.nextInt(3);
      for (int i = 0; i < count; i++) {
        List<Endpoint> eps = new ArrayList<>();
        int n = random.nextInt(5);
        for (int e = 0; e < n; e++) {
          String ip = "10.0.0." + (1 + random.nextInt(12)); // shared between Services
          String where = random.nextBoolean() ? THIS_NODE : "other";
          eps.add(switch (random.nextInt(4)) {
            case 0 -> endpoint(ip, where, false, true, true);
            case 1 -> endpoint(ip, where, false, false, true);
            default -> ready(ip, where);
          });
        }
        if (random.nextInt(25) == 0) {
          eps.add(ready("not-an-ip", THIS_NODE));
        }
        out.add(slice("svc-" + s, "svc-" + s + "-" + i,
            List.of(slicePort("web", 8000 + random.nextInt(2), "TCP"),
                slicePort("dns", 5353, "UDP")),
            eps.toArray(Endpoint[]::new)));
      }
      return out;
    }
  }
}
