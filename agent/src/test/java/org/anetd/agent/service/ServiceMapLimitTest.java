package org.anetd.agent.service;

import static org.anetd.agent.service.ServiceFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Reason;
import org.junit.jupiter.api.Test;

/**
 * bpf-lb-map-max bounds lb4_services (all slots), lb4_backends and lb4_reverse_nat. A Service that
 * does not fit is skipped whole and reported; the others stay intact.
 */
class ServiceMapLimitTest {

  @Test
  void servicesThatDoNotFitAreSkippedWholeAndSmallerOnesAfterThemStillFit() {
    // Each Service: 1 master + its backends in slots. Limit 10: a (4) + b (4) fit, c (4) does
    // not, d (2) still does.
    ClusterState state = state(
        List.of(webService("a", 1), webService("b", 2), webService("c", 3), webService("d", 4)),
        List.of(endpoints("a", 3), endpoints("b", 3), endpoints("c", 3), endpoints("d", 1)));

    DesiredServices d = compileWithLimit(state, 10, ServiceIds.empty());

    assertThat(programmedServices(d)).containsExactly("a", "b", "d");
    assertThat(d.services()).hasSize(10);
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.MapFull);
      assertThat(p.object().name()).isEqualTo("c");
    });
    // Nothing of c: no entries, no backends, no rev-NAT.
    assertThat(frontends(d)).doesNotContain("10.96.0.3:80/TCP");
    assertThat(d.backends().values()).noneMatch(b -> b.address().toString().startsWith("10.3."));
    assertThat(d.revNat()).hasSize(3);
  }

  @Test
  void servicesProgrammedBeforeKeepTheirPlaceOverNewOnesThatSortFirst() {
    ClusterState before = state(List.of(webService("z", 1)), List.of(endpoints("z", 2)));
    ClusterState after = state(List.of(webService("a", 2), webService("z", 1)),
        List.of(endpoints("a", 2), endpoints("z", 2)));
    DesiredServices first = compileWithLimit(before, 3, ServiceIds.empty());

    DesiredServices second = compileWithLimit(after, 3, first.ids());
    DesiredServices fresh = compileWithLimit(after, 3, ServiceIds.empty());

    assertThat(programmedServices(second)).containsExactly("z");
    assertThat(second.problems()).extracting(p -> p.reason() + " " + p.object().name())
        .containsExactly("MapFull a");
    // Without history, namespace/name order decides.
    assertThat(programmedServices(fresh)).containsExactly("a");
  }

  @Test
  void aRunningServiceThatGrowsPastTheLimitKeepsWhatItHasInsteadOfPushingOutAnother() {
    // Limit 7: a (1 + 2) and b (1 + 2) run; a scaled to 4 endpoints needs 5, and 5 + 3 > 7.
    ServiceCompilerConfig limit7 = ServiceCompilerConfig.defaults().withLbMapMax(7);
    IncrementalServiceCompiler c = new IncrementalServiceCompiler(ServiceIds.empty());
    List<Service> both = List.of(webService("a", 1), webService("b", 2));
    c.compile(state(both, List.of(endpoints("a", 2), endpoints("b", 2))), limit7);
    c.committed();

    IncrementalServiceCompiler.Pass grown =
        c.compile(state(both, List.of(endpoints("a", 4), endpoints("b", 2))), limit7);

    assertThat(programmedServices(c.desired())).containsExactly("a", "b");
    assertThat(c.desired().services()).hasSize(6); // a as it was: its change waits
    assertThat(grown.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.MapFull);
      assertThat(p.object().name()).isEqualTo("a");
      assertThat(p.message()).startsWith("Service kept to the ports and backends it has");
    });
    c.committed();

    // While it waits, its first pod goes: it leaves its slot instead of staying in it.
    EndpointSlice withoutFirst = slice("a", "a-1", unnamedTcp(8080),
        IntStream.rangeClosed(2, 5).mapToObj(i -> ready("10.1.0." + i, THIS_NODE))
            .toArray(Endpoint[]::new));
    c.compile(state(both, List.of(withoutFirst, endpoints("b", 2))), limit7);

    assertThat(c.desired().backends().values()).extracting(b -> b.address().toString())
        .as("a keeps 10.1.0.2 only; b its two").containsExactlyInAnyOrder("10.1.0.2", "10.2.0.1",
            "10.2.0.2");
    c.committed();

    // Once b is gone there is room: a's change is applied.
    IncrementalServiceCompiler.Pass roomy = c.compile(
        state(List.of(webService("a", 1)), List.of(withoutFirst)), limit7);

    assertThat(c.desired().services()).hasSize(5);
    assertThat(roomy.problems()).isEmpty();
  }

  @Test
  void aServiceSkippedForRoomComesInOnlyWhenItsBackendsFitNextToTheOnesStillWritten() {
    // Limit 10: a has 1 ready + 7 lingering terminating backends (8); z needs 3 more: skipped.
    Endpoint[] lingering = new Endpoint[8];
    lingering[0] = ready("10.1.0.1", THIS_NODE);
    for (int i = 1; i < 8; i++) {
      lingering[i] = endpoint("10.1.0." + (i + 1), THIS_NODE, false, false, true);
    }
    ServiceCompilerConfig limit10 = ServiceCompilerConfig.defaults().withLbMapMax(10);
    List<Service> services = List.of(webService("a", 1), webService("z", 26));
    EndpointSlice z = endpoints("z", 3); // the same object in every snapshot: z is not touched
    IncrementalServiceCompiler c = new IncrementalServiceCompiler(ServiceIds.empty());
    c.compile(state(services, List.of(slice("a", "a-1", unnamedTcp(8080), lingering), z)),
        limit10);
    c.committed();
    assertThat(programmedServices(c.desired())).containsExactly("a");

    // a's terminating pods go: this pass still writes z's 3 backends next to a's 8 (11 > 10)
    ClusterState gone = state(services, List.of(endpoints("a", 1), z));
    IncrementalServiceCompiler.Pass next = c.compile(gone, limit10);
    c.committed();
    IncrementalServiceCompiler.Pass after = c.compile(gone, limit10);

    assertThat(next.problems()).extracting(p -> p.reason() + " " + p.object().name())
        .containsExactly("MapFull z");
    assertThat(after.problems()).isEmpty();
    assertThat(programmedServices(c.desired())).containsExactly("a", "z");
  }

  @Test
  void backendsCountAgainstTheLimitIncludingLingeringTerminatingOnes() {
    // One ready endpoint in a slot plus five terminating ones kept only for their connections:
    // 2 lb4_services entries but 6 lb4_backends entries.
    Endpoint[] endpoints = new Endpoint[6];
    endpoints[0] = ready("10.1.0.1", THIS_NODE);
    for (int i = 1; i < 6; i++) {
      endpoints[i] = endpoint("10.1.0." + (i + 1), THIS_NODE, false, false, true);
    }
    ClusterState state = state(List.of(webService("a", 1), webService("b", 2)),
        List.of(slice("a", "a-1", unnamedTcp(8080), endpoints), endpoints("b", 1)));

    DesiredServices d = compileWithLimit(state, 5, ServiceIds.empty());

    assertThat(programmedServices(d)).containsExactly("b");
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.MapFull);
      assertThat(p.message()).contains("lb4_backends");
    });
  }

  @Test
  void sharedBackendsCountOnce() {
    ClusterState state = state(List.of(webService("a", 1), webService("b", 2)),
        List.of(slice("a", "a-1", unnamedTcp(8080), shared()),
            slice("b", "b-1", unnamedTcp(8080), shared())));

    // 2 x (1 + 3) = 8 lb4_services entries, but only 3 distinct backends.
    DesiredServices d = compileWithLimit(state, 8, ServiceIds.empty());

    assertThat(programmedServices(d)).containsExactly("a", "b");
    assertThat(d.backends()).hasSize(3);
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void revNatIdsAreBoundedByTheirSixteenBitsEvenWhenTheMapsAreLarger() {
    // a: 256 addresses x 200 ports = 51200 frontends; b: 100 x 200 = 20000. Together more than
    // the 65535 rev-NAT ids a u16 can name, though far below this lbMapMax.
    ClusterState state = state(List.of(manyFrontends("a", 1, 255), manyFrontends("b", 2, 99)),
        List.of());

    DesiredServices d = compileWithLimit(state, 1_000_000, ServiceIds.empty());

    assertThat(programmedServices(d)).containsExactly("a");
    assertThat(d.revNat()).hasSize(51200);
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.MapFull);
      assertThat(p.object().name()).isEqualTo("b");
      assertThat(p.message()).contains("lb4_reverse_nat");
    });
  }

  private static DesiredServices compileWithLimit(
      ClusterState state, int lbMapMax, ServiceIds previous) {
    return ServiceCompiler.compile(
        state, ServiceCompilerConfig.defaults().withLbMapMax(lbMapMax), previous);
  }

  /** Service {@code name} at ClusterIP 10.96.0.{n}, port 80 -> 8080. */
  private static Service webService(String name, int n) {
    return clusterIp(name, "10.96.0." + n, tcp(80, 8080));
  }

  /** {@code count} ready endpoints 10.{n}.0.1.. for Service {@code name} (n from the name). */
  private static EndpointSlice endpoints(String name, int count) {
    int n = name.charAt(0) - 'a' + 1;
    return slice(name, name + "-1", unnamedTcp(8080), IntStream.rangeClosed(1, count)
        .mapToObj(i -> ready("10." + n + ".0." + i, THIS_NODE)).toArray(Endpoint[]::new));
  }

  private static Endpoint[] shared() {
    return new Endpoint[] {ready("10.9.0.1", THIS_NODE), ready("10.9.0.2", THIS_NODE),
        ready("10.9.0.3", THIS_NODE)};
  }

  private static Service manyFrontends(String name, int n, int externalIps) {
    List<ServicePort> ports = new ArrayList<>();
    for (int p = 0; p < 200; p++) {
      ports.add(port("p" + p, 1000 + p, "TCP", 1000 + p));
    }
    List<String> ips = IntStream.range(0, externalIps)
        .mapToObj(i -> "198.51." + n + "." + i).toList();
    return new ServiceBuilder(clusterIp(name, "10.96.0." + n, ports.toArray(ServicePort[]::new)))
        .editSpec().withExternalIPs(ips).endSpec().build();
  }

  private static List<String> programmedServices(DesiredServices d) {
    return d.frontends().keySet().stream().map(ref -> ref.name()).toList();
  }
}
