package org.anetd.agent.service;

import static org.anetd.agent.service.ServiceFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Ids survive recompiles: conntrack in the kernel holds backend and rev-NAT ids. */
class ServiceIdsTest {

  /**
   * The allocation rule on its own: previous ids of things still desired are kept, the rest get
   * the lowest free numbers in key order. Keys are letters, ids as given.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("allocations")
  void keptIdsStayAndNewThingsTakeTheLowestFreeNumbers(
      String why, Map<String, Long> previous, Set<String> desired, Map<String, Long> expected) {
    SortedMap<String, Long> ids = ServiceIds.StableIds.allocate(
        new TreeSet<>(desired), new TreeMap<>(previous), 100);

    assertThat(ids).isEqualTo(expected);
  }

  static Stream<Arguments> allocations() {
    return Stream.of(
        Arguments.of("fresh start counts from 1",
            Map.of(), Set.of("b", "a", "c"), Map.of("a", 1L, "b", 2L, "c", 3L)),
        Arguments.of("a new key sorting first does not renumber the others",
            Map.of("b", 1L, "c", 2L), Set.of("a", "b", "c"), Map.of("a", 3L, "b", 1L, "c", 2L)),
        Arguments.of("an id freed in this pass is not reused in the same pass",
            Map.of("a", 1L, "b", 2L, "c", 3L), Set.of("b", "c", "d"),
            Map.of("b", 2L, "c", 3L, "d", 4L)),
        Arguments.of("an id freed in the previous pass is free again",
            Map.of("b", 2L, "c", 3L, "d", 4L), Set.of("b", "c", "d", "e"),
            Map.of("b", 2L, "c", 3L, "d", 4L, "e", 1L)),
        Arguments.of("gaps fill from the bottom",
            Map.of("a", 2L, "b", 5L), Set.of("a", "b", "x", "y", "z"),
            Map.of("a", 2L, "b", 5L, "x", 1L, "y", 3L, "z", 4L)),
        Arguments.of("ids of things no longer desired are dropped",
            Map.of("a", 7L), Set.of(), Map.of()),
        Arguments.of("a corrupt hand-over (duplicate or out-of-range id) is renumbered",
            Map.of("a", 4L, "b", 4L, "c", 0L, "d", 101L), Set.of("a", "b", "c", "d"),
            Map.of("a", 4L, "b", 1L, "c", 2L, "d", 3L)));
  }

  @Test
  void backendIdsSurviveARecompileWhileOtherBackendsComeAndGo() {
    DesiredServices before = compile(stateWithWebEndpoints("10.0.1.5", "10.0.1.6", "10.0.1.7"));
    DesiredServices after = ServiceCompiler.compile(
        stateWithWebEndpoints("10.0.1.1", "10.0.1.6", "10.0.1.7"),
        ServiceCompilerConfig.defaults(), before.ids());

    long gone = backendId(before, "10.0.1.5");
    for (String kept : List.of("10.0.1.6", "10.0.1.7")) {
      assertThat(backendId(after, kept)).as(kept).isEqualTo(backendId(before, kept));
    }
    // The new backend sorts first, yet neither shifts the others nor takes the number freed in
    // this very pass (old slots and conntrack entries may still name it).
    assertThat(backendId(after, "10.0.1.1")).isNotEqualTo(gone).isEqualTo(4L);
    assertThat(after.ids().backendIds()).hasSize(3);
  }

  @Test
  void revNatIdsSurviveARecompileAndAnAddedServiceDoesNotShiftThem() {
    ClusterState one = state(
        List.of(clusterIp("m", "10.96.0.50", tcp(80, 80)), clusterIp("n", "10.96.0.60", tcp(80, 80))),
        List.of());
    ClusterState two = state(
        List.of(clusterIp("a", "10.96.0.1", tcp(80, 80)), clusterIp("n", "10.96.0.60", tcp(80, 80))),
        List.of());

    DesiredServices before = compile(one);
    DesiredServices after =
        ServiceCompiler.compile(two, ServiceCompilerConfig.defaults(), before.ids());

    int n = master(before, key("10.96.0.60", 80)).revNatId();
    assertThat(master(after, key("10.96.0.60", 80)).revNatId()).isEqualTo(n);
    assertThat(master(after, key("10.96.0.1", 80)).revNatId())
        .isNotEqualTo(master(before, key("10.96.0.50", 80)).revNatId());
    assertThat(after.revNat()).hasSize(2);
  }

  @Test
  void compilingAgainWithItsOwnIdsChangesNothing() {
    ClusterState state = stateWithWebEndpoints("10.0.1.5", "10.0.1.6");
    DesiredServices first = compile(state);

    DesiredServices second =
        ServiceCompiler.compile(state, ServiceCompilerConfig.defaults(), first.ids());

    assertThat(second).isEqualTo(first);
  }

  private static ClusterState stateWithWebEndpoints(String... ips) {
    Service web = clusterIp("web", "10.96.0.1", tcp(80, 8080));
    EndpointSlice slice = slice("web", "web-1", unnamedTcp(8080),
        Stream.of(ips).map(ip -> ready(ip, THIS_NODE))
            .toArray(io.fabric8.kubernetes.api.model.discovery.v1.Endpoint[]::new));
    return state(List.of(web), List.of(slice));
  }

  private static long backendId(DesiredServices d, String ip) {
    return d.ids().backendId(new BackendAddress(Ipv4.parse(ip), 8080, Protocol.TCP))
        .orElseThrow(() -> new AssertionError("no backend id for " + ip));
  }
}
