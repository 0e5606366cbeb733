package org.anetd.agent.service;

import static org.anetd.agent.service.ServiceFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceCompilerTest {

  // ---- ClusterIP ----

  @ParameterizedTest
  @ValueSource(strings = {"TCP", "UDP"})
  void clusterIpFrontendLoadBalancesToReadyEndpoints(String protocol) {
    Protocol p = Protocol.ofKubernetes(protocol);
    DesiredServices d = compile(state(
        List.of(clusterIp("dns", "10.96.0.10", port(null, 53, protocol, 5353))),
        List.of(slice("dns", "dns-1", List.of(slicePort(null, 5353, protocol)),
            ready("10.0.1.2", THIS_NODE), ready("10.0.2.3", OTHER_NODE)))));

    Lb4Key frontend = key("10.96.0.10", 53, p, Lb4Key.SCOPE_EXTERNAL);
    assertThat(frontends(d)).containsExactly("10.96.0.10:53/" + protocol);
    assertThat(slotBackends(d, frontend)).containsExactly("10.0.1.2:5353", "10.0.2.3:5353");
    assertThat(master(d, frontend).flags()).isZero();
    assertThat(d.backends().values()).extracting(Lb4Backend::protocol).containsOnly(p);
    assertThat(d.revNat().get(master(d, frontend).revNatId()))
        .isEqualTo(new Lb4ReverseNat(Ipv4.parse("10.96.0.10"), 53));
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void eachServicePortIsItsOwnFrontendWithItsOwnRevNat() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1",
            port("http", 80, "TCP", 8080), port("https", 443, "TCP", 8443),
            port("quic", 443, "UDP", 8443))),
        List.of(slice("web", "web-1",
            List.of(slicePort("http", 8080, "TCP"), slicePort("https", 8443, "TCP"),
                slicePort("quic", 8443, "UDP")),
            ready("10.0.1.2", THIS_NODE)))));

    assertThat(frontends(d))
        .containsExactly("10.96.0.1:443/TCP", "10.96.0.1:443/UDP", "10.96.0.1:80/TCP");
    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
    assertThat(slotBackends(d, key("10.96.0.1", 443))).containsExactly("10.0.1.2:8443");
    assertThat(d.revNat()).hasSize(3);
    // TCP and UDP to the same pod port are different backends.
    assertThat(d.backends()).hasSize(3);
  }

  @Test
  void ipv6ClusterIpsAreSkippedSilently() {
    Service dualStack = new ServiceBuilder(clusterIp("web", "fd00::10", tcp(80, 8080)))
        .editSpec().withClusterIPs("fd00::10", "10.96.0.1").endSpec().build();

    DesiredServices d = compile(state(List.of(dualStack), List.of()));

    assertThat(frontends(d)).containsExactly("10.96.0.1:80/TCP");
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void malformedClusterIpIsReportedAndTheOtherAddressesStillCompile() {
    Service bad = new ServiceBuilder(clusterIp("web", "10.96.0.300", tcp(80, 8080)))
        .editSpec().withClusterIPs("10.96.0.300", "10.96.0.1").endSpec().build();

    DesiredServices d = compile(state(List.of(bad, clusterIp("db", "10.96.0.2", tcp(5432, 5432))),
        List.of()));

    assertThat(frontends(d)).containsExactly("10.96.0.1:80/TCP", "10.96.0.2:5432/TCP");
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.InvalidIp);
      assertThat(p.object().name()).isEqualTo("web");
      assertThat(p.message()).contains("10.96.0.300");
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servicesWithoutVirtualAddress")
  void servicesWithoutVirtualAddressProgramNothing(String why, Service service) {
    DesiredServices d = compile(state(List.of(service),
        List.of(slice(service.getMetadata().getName(), "s-1", unnamedTcp(8080),
            ready("10.0.1.2", THIS_NODE)))));

    assertThat(d.services()).isEmpty();
    assertThat(d.backends()).isEmpty();
    assertThat(d.problems()).isEmpty();
  }

  static Stream<Arguments> servicesWithoutVirtualAddress() {
    return Stream.of(
        Arguments.of("headless", clusterIp("headless", "None", tcp(80, 8080))),
        Arguments.of("ExternalName", new ServiceBuilder(service("ext", "ExternalName", null,
            tcp(80, 8080))).editSpec().withExternalName("example.com").endSpec().build()));
  }

  // ---- EndpointSlice matching and port resolution ----

  @Test
  void endpointSlicesMatchByServiceNameLabelInTheSameNamespaceAndIpv4Only() {
    EndpointSlice ipv6 = new EndpointSliceBuilder(
        slice("web", "web-v6", unnamedTcp(8080), ready("fd00::5", THIS_NODE)))
        .withAddressType("IPv6").build();
    EndpointSlice unlabelled = new EndpointSliceBuilder(
        slice("web", "web-manual", unnamedTcp(8080), ready("10.0.9.9", THIS_NODE)))
        .editMetadata().withLabels(java.util.Map.of()).endMetadata().build();

    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(
            slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)),
            slice("other-ns", "web", "web-elsewhere", unnamedTcp(8080),
                ready("10.0.7.7", THIS_NODE)),
            slice("api", "api-1", unnamedTcp(8080), ready("10.0.8.8", THIS_NODE)),
            ipv6, unlabelled)));

    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void namedTargetPortResolvesPerEndpointSlice() {
    // Two pod templates declare container port "http" with different numbers: the endpoint
    // controller writes one slice per port set, each with its own number under the port name.
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", namedTarget("web", 80, "TCP", "http"))),
        List.of(
            slice("web", "web-v1", List.of(slicePort("web", 8080, "TCP")),
                ready("10.0.1.2", THIS_NODE)),
            slice("web", "web-v2", List.of(slicePort("web", 9090, "TCP")),
                ready("10.0.1.3", THIS_NODE)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80)))
        .containsExactly("10.0.1.2:8080", "10.0.1.3:9090");
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void unnamedSinglePortMatchesTheUnnamedSlicePortWhateverTheName() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(slice("web", "web-1", List.of(slicePort("", 8080, "TCP")),
            ready("10.0.1.2", THIS_NODE)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
  }

  @Test
  void servicePortMatchesSlicePortOfTheSameProtocolOnly() {
    DesiredServices d = compile(state(
        List.of(clusterIp("dns", "10.96.0.10", port("dns", 53, "UDP", 53))),
        List.of(slice("dns", "dns-1", List.of(slicePort("dns", 53, "TCP")),
            ready("10.0.1.2", THIS_NODE)))));

    assertThat(master(d, key("10.96.0.10", 53, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL)).count())
        .isZero();
  }

  @Test
  void unresolvedTargetPortNameIsReportedOncePerServicePortNotPerSlice() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1",
            namedTarget("web", 80, "TCP", "http"), namedTarget("admin", 9000, "TCP", "admin"),
            port("metrics", 9100, "TCP", 9100))),
        List.of(
            slice("web", "web-1", List.of(slicePort("web", 8080, "TCP")),
                ready("10.0.1.2", THIS_NODE)),
            slice("web", "web-2", List.of(slicePort("web", 8080, "TCP")),
                ready("10.0.1.3", THIS_NODE)))));

    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.UnknownPortName);
      assertThat(p.message()).contains("\"admin\"");
    });
    Lb4Service admin = master(d, key("10.96.0.1", 9000));
    assertThat(admin.count()).isZero();
    assertThat(hasFlag(admin, Lb4Service.F_NO_BACKENDS)).isTrue();
    // A numeric targetPort without a slice port is a selector-less Service, not an error.
    assertThat(master(d, key("10.96.0.1", 9100)).count()).isZero();
    assertThat(slotBackends(d, key("10.96.0.1", 80))).hasSize(2);
  }

  @Test
  void namedTargetPortIsNotJudgedBeforeTheServiceHasEndpoints() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", namedTarget("web", 80, "TCP", "http"))),
        List.of(slice("web", "web-empty", List.of()))));

    assertThat(d.problems()).isEmpty();
    assertThat(master(d, key("10.96.0.1", 80)).count()).isZero();
  }

  @Test
  void endpointListedInTwoSlicesIsOneBackendAndReadyListingWins() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(
            slice("web", "web-a", unnamedTcp(8080),
                endpoint("10.0.1.2", THIS_NODE, false, false, false)),
            slice("web", "web-b", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
  }

  @Test
  void malformedEndpointAddressIsReportedOnTheSliceAndTheRestStillServe() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(slice("web", "web-1", unnamedTcp(8080),
            ready("10.0.1.999", THIS_NODE), ready("10.0.1.2", THIS_NODE)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.InvalidIp);
      assertThat(p.object().kind()).isEqualTo("EndpointSlice");
      assertThat(p.object().name()).isEqualTo("web-1");
    });
  }

  // ---- Endpoint conditions ----

  /**
   * One endpoint alone behind a frontend: (ready, serving, terminating) as written in the slice,
   * null meaning unset; whether it gets a slot; its lb4_backends state, or "none" for no entry.
   */
  @ParameterizedTest(name = "ready={0} serving={1} terminating={2} -> slot={3} entry={4}")
  @CsvSource(nullValues = "null", value = {
      "null,  null,  null,  true,  ACTIVE",
      "true,  null,  null,  true,  ACTIVE",
      "true,  true,  false, true,  ACTIVE",
      "false, null,  null,  false, none",
      "false, true,  false, false, none",
      "false, true,  true,  true,  TERMINATING",
      "false, null,  true,  false, TERMINATING",
      "false, false, true,  false, TERMINATING",
  })
  void endpointConditionsDecideSlotAndBackendState(Boolean ready, Boolean serving,
      Boolean terminating, boolean inSlot, String entry) {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(slice("web", "web-1", unnamedTcp(8080),
            endpoint("10.0.1.2", THIS_NODE, ready, serving, terminating)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80)))
        .isEqualTo(inSlot ? List.of("10.0.1.2:8080") : List.of());
    assertThat(backend(d, "10.0.1.2", 8080).map(ServiceCompilerTest::stateName))
        .isEqualTo(entry.equals("none") ? java.util.Optional.empty()
            : java.util.Optional.of(entry));
  }

  @Test
  void servingTerminatingEndpointsAreOnlyAFallbackWhenNoneAreReady() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))),
        List.of(slice("web", "web-1", unnamedTcp(8080),
            ready("10.0.1.2", THIS_NODE),
            endpoint("10.0.1.3", THIS_NODE, false, true, true)))));

    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
    // Still in lb4_backends so that its established connections resolve through conntrack.
    assertThat(backend(d, "10.0.1.3", 8080)).map(ServiceCompilerTest::stateName)
        .contains("TERMINATING");
  }

  @Test
  void frontendWithoutUsableBackendsRejectsInsteadOfTimingOut() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))), List.of()));

    Lb4Service master = master(d, key("10.96.0.1", 80));
    assertThat(master.count()).isZero();
    assertThat(hasFlag(master, Lb4Service.F_NO_BACKENDS)).isTrue();
    assertThat(d.services()).hasSize(1);
    assertThat(d.revNat()).containsKey(master.revNatId());
  }

  // ---- Session affinity ----

  @ParameterizedTest(name = "timeoutSeconds={0} -> {1}")
  @CsvSource(nullValues = "null", value = {
      "null,  10800, false",
      "60,    60,    false",
      "1,     1,     false",
      "86400, 86400, false",
      "0,     10800, true",
      "86401, 10800, true",
  })
  void clientIpAffinityCarriesItsTimeoutOnTheMasterEntry(
      Integer timeoutSeconds, long expected, boolean reported) {
    Service sticky = new ServiceBuilder(clusterIp("web", "10.96.0.1", tcp(80, 8080)))
        .editSpec().withSessionAffinity("ClientIP")
        .withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(timeoutSeconds)
        .endClientIP().endSessionAffinityConfig()
        .endSpec().build();

    DesiredServices d = compile(state(List.of(sticky),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)))));

    Lb4Service master = master(d, key("10.96.0.1", 80));
    assertThat(hasFlag(master, Lb4Service.F_AFFINITY)).isTrue();
    assertThat(master.backendId()).as("affinity timeout").isEqualTo(expected);
    assertThat(d.problems()).extracting(Problem::reason)
        .isEqualTo(reported ? List.of(Reason.InvalidTimeout) : List.of());
  }

  @Test
  void withoutAffinityTheMasterCarriesNoTimeout() {
    DesiredServices d = compile(state(
        List.of(clusterIp("web", "10.96.0.1", tcp(80, 8080))), List.of()));

    Lb4Service master = master(d, key("10.96.0.1", 80));
    assertThat(hasFlag(master, Lb4Service.F_AFFINITY)).isFalse();
    assertThat(master.backendId()).isZero();
  }

  // ---- Traffic policies ----

  @Test
  void internalTrafficPolicyLocalUsesOnlyEndpointsOnThisNode() {
    Service local = new ServiceBuilder(clusterIp("web", "10.96.0.1", tcp(80, 8080)))
        .editSpec().withInternalTrafficPolicy("Local").endSpec().build();

    DesiredServices d = compile(state(List.of(local),
        List.of(slice("web", "web-1", unnamedTcp(8080),
            ready("10.0.1.2", THIS_NODE), ready("10.0.2.3", OTHER_NODE)))));

    Lb4Service master = master(d, key("10.96.0.1", 80));
    assertThat(slotBackends(d, key("10.96.0.1", 80))).containsExactly("10.0.1.2:8080");
    assertThat(hasFlag(master, Lb4Service.F_ITP_LOCAL)).isTrue();
  }

  @Test
  void internalTrafficPolicyLocalWithoutLocalEndpointsRejects() {
    Service local = new ServiceBuilder(clusterIp("web", "10.96.0.1", tcp(80, 8080)))
        .editSpec().withInternalTrafficPolicy("Local").endSpec().build();

    DesiredServices d = compile(state(List.of(local),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.2.3", OTHER_NODE)))));

    assertThat(hasFlag(master(d, key("10.96.0.1", 80)), Lb4Service.F_NO_BACKENDS)).isTrue();
  }

  @Test
  void externalTrafficPolicyLocalSplitsExternalFrontendsIntoTwoScopes() {
    Service lb = new ServiceBuilder(loadBalancer("web", "10.96.0.1", List.of("203.0.113.7"),
        withNodePort(tcp(80, 8080), 30080)))
        .editSpec().withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000).endSpec()
        .build();

    DesiredServices d = compile(state(List.of(lb),
        List.of(slice("web", "web-1", unnamedTcp(8080),
            ready("10.0.1.2", THIS_NODE), ready("10.0.2.3", OTHER_NODE))),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"))));

    assertThat(frontends(d)).containsExactly(
        "10.96.0.1:80/TCP",
        "192.168.0.10:30080/TCP", "192.168.0.10:30080/TCP internal",
        "203.0.113.7:80/TCP", "203.0.113.7:80/TCP internal");
    for (Lb4Key external : List.of(key("192.168.0.10", 30080), key("203.0.113.7", 80))) {
      Lb4Key internal = key(external.address().toString(), external.port(), Protocol.TCP,
          Lb4Key.SCOPE_INTERNAL);
      assertThat(slotBackends(d, external)).containsExactly("10.0.1.2:8080");
      assertThat(hasFlag(master(d, external), Lb4Service.F_ETP_LOCAL)).isTrue();
      assertThat(slotBackends(d, internal)).containsExactly("10.0.1.2:8080", "10.0.2.3:8080");
      assertThat(hasFlag(master(d, internal), Lb4Service.F_ETP_LOCAL)).isFalse();
      assertThat(master(d, internal).revNatId()).isEqualTo(master(d, external).revNatId());
    }
    // ETP does not apply to the ClusterIP.
    assertThat(slotBackends(d, key("10.96.0.1", 80)))
        .containsExactly("10.0.1.2:8080", "10.0.2.3:8080");
    assertThat(d.healthChecks()).containsOnlyKeys(32000);
    assertThat(d.healthChecks().get(32000).localEndpoints()).isEqualTo(1);
    assertThat(d.healthChecks().get(32000).service().name()).isEqualTo("web");
  }

  @Test
  void externalTrafficPolicyLocalWithoutLocalEndpointsRejectsOutsideTrafficOnly() {
    Service np = new ServiceBuilder(nodePort("web", "10.96.0.1",
        withNodePort(tcp(80, 8080), 30080)))
        .editSpec().withExternalTrafficPolicy("Local").endSpec().build();

    DesiredServices d = compile(state(List.of(np),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.2.3", OTHER_NODE))),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"))));

    Lb4Service external = master(d, key("192.168.0.10", 30080));
    assertThat(hasFlag(external, Lb4Service.F_NO_BACKENDS)).isTrue();
    assertThat(hasFlag(external, Lb4Service.F_ETP_LOCAL)).isTrue();
    assertThat(slotBackends(d, key("192.168.0.10", 30080, Protocol.TCP, Lb4Key.SCOPE_INTERNAL)))
        .containsExactly("10.0.2.3:8080");
  }

  @Test
  void twoServicesWithOneHealthCheckNodePortKeepTheFirst() {
    Service a = new ServiceBuilder(loadBalancer("a", "10.96.0.1", List.of(), tcp(80, 8080)))
        .editSpec().withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000).endSpec()
        .build();
    Service b = new ServiceBuilder(loadBalancer("b", "10.96.0.2", List.of(), tcp(80, 8080)))
        .editSpec().withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000).endSpec()
        .build();

    DesiredServices d = compile(state(List.of(b, a), List.of()));

    assertThat(d.healthChecks().get(32000).service().name()).isEqualTo("a");
    assertThat(d.problems()).extracting(p -> p.reason() + " " + p.object().name())
        .containsExactly("PortConflict b");
    assertThat(frontends(d)).contains("10.96.0.2:80/TCP");
  }

  @Test
  void healthCheckCountsReadyLocalPodsOnceAcrossPortsAndReportsZeroWithoutThem() {
    Service lb = new ServiceBuilder(loadBalancer("web", "10.96.0.1", List.of(),
        withNodePort(port("http", 80, "TCP", 8080), 30080),
        withNodePort(port("https", 443, "TCP", 8443), 30443)))
        .editSpec().withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000).endSpec()
        .build();
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> ports =
        List.of(slicePort("http", 8080, "TCP"), slicePort("https", 8443, "TCP"));

    DesiredServices twoLocal = compile(state(List.of(lb), List.of(slice("web", "web-1", ports,
        ready("10.0.1.2", THIS_NODE), ready("10.0.1.3", THIS_NODE),
        ready("10.0.2.3", OTHER_NODE), endpoint("10.0.1.4", THIS_NODE, false, true, true)))));
    DesiredServices noneLocal = compile(state(List.of(lb), List.of(slice("web", "web-1", ports,
        ready("10.0.2.3", OTHER_NODE)))));

    assertThat(twoLocal.healthChecks().get(32000).localEndpoints()).isEqualTo(2);
    assertThat(noneLocal.healthChecks().get(32000).localEndpoints()).isZero();
  }

  // ---- NodePort ----

  @Test
  void nodePortListensOnEveryIpv4AddressOfThisNodeOnly() {
    DesiredServices d = compile(state(
        List.of(nodePort("web", "10.96.0.1", withNodePort(tcp(80, 8080), 30080))),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE))),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"), address("ExternalIP", "198.51.100.4"),
            address("InternalIP", "fd00::10"), address("Hostname", "node-a")),
        node(OTHER_NODE, address("InternalIP", "192.168.0.11"))));

    assertThat(frontends(d)).containsExactly(
        "10.96.0.1:80/TCP", "192.168.0.10:30080/TCP", "198.51.100.4:30080/TCP");
    Lb4Service nodePort = master(d, key("192.168.0.10", 30080));
    assertThat(hasFlag(nodePort, Lb4Service.F_NODEPORT)).isTrue();
    assertThat(hasFlag(master(d, key("10.96.0.1", 80)), Lb4Service.F_NODEPORT)).isFalse();
    assertThat(slotBackends(d, key("192.168.0.10", 30080))).containsExactly("10.0.1.2:8080");
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void tcpAndUdpOnTheSameNodePortAreDistinctFrontends() {
    DesiredServices d = compile(state(
        List.of(nodePort("dns", "10.96.0.10",
            withNodePort(port("dns-tcp", 53, "TCP", 53), 30053),
            withNodePort(port("dns-udp", 53, "UDP", 53), 30053))),
        List.of(slice("dns", "dns-1",
            List.of(slicePort("dns-tcp", 53, "TCP"), slicePort("dns-udp", 53, "UDP")),
            ready("10.0.1.2", THIS_NODE))),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"))));

    Lb4Service tcp = master(d, key("192.168.0.10", 30053, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL));
    Lb4Service udp = master(d, key("192.168.0.10", 30053, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL));
    assertThat(tcp.revNatId()).isNotEqualTo(udp.revNatId());
    assertThat(tcp.count()).isEqualTo(1);
    assertThat(udp.count()).isEqualTo(1);
  }

  @ParameterizedTest(name = "nodePort {0} in 30000-32767: programmed={1}")
  @CsvSource({"29999, false", "30000, true", "32767, true", "32768, false", "80, false"})
  void nodePortOutsideTheConfiguredRangeIsReportedAndOnlyThatFrontendSkipped(
      int nodePort, boolean programmed) {
    DesiredServices d = compile(state(
        List.of(nodePort("web", "10.96.0.1", withNodePort(tcp(80, 8080), nodePort))),
        List.of(),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"))));

    assertThat(frontends(d).contains("192.168.0.10:" + nodePort + "/TCP")).isEqualTo(programmed);
    assertThat(frontends(d)).contains("10.96.0.1:80/TCP");
    assertThat(d.problems()).extracting(Problem::reason)
        .isEqualTo(programmed ? List.of() : List.of(Reason.InvalidPort));
  }

  // ---- LoadBalancer and externalIPs ----

  @Test
  void loadBalancerIngressAndExternalIpsAreExternalFrontends() {
    Service lb = new ServiceBuilder(loadBalancer("web", "10.96.0.1",
        List.of("203.0.113.7", "2001:db8::7"), tcp(80, 8080)))
        .editSpec().withExternalIPs("198.51.100.9").endSpec().build();
    Service withExternalIp = new ServiceBuilder(clusterIp("api", "10.96.0.2", tcp(443, 8443)))
        .editSpec().withExternalIPs("198.51.100.10").endSpec().build();

    DesiredServices d = compile(state(List.of(lb, withExternalIp),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", OTHER_NODE)))));

    assertThat(frontends(d)).containsExactly("10.96.0.1:80/TCP", "10.96.0.2:443/TCP",
        "198.51.100.10:443/TCP", "198.51.100.9:80/TCP", "203.0.113.7:80/TCP");
    for (Lb4Key external : List.of(key("203.0.113.7", 80), key("198.51.100.9", 80))) {
      assertThat(hasFlag(master(d, external), Lb4Service.F_EXTERNAL)).isTrue();
      assertThat(slotBackends(d, external)).containsExactly("10.0.1.2:8080");
    }
    assertThat(hasFlag(master(d, key("198.51.100.10", 443)), Lb4Service.F_EXTERNAL)).isTrue();
    assertThat(hasFlag(master(d, key("10.96.0.1", 80)), Lb4Service.F_EXTERNAL)).isFalse();
  }

  @Test
  void loadBalancerIngressIpsInProxyModeAreLeftToTheLoadBalancer() {
    Service lb = new ServiceBuilder(loadBalancer("web", "10.96.0.1", List.of(), tcp(80, 8080)))
        .editStatus().editLoadBalancer()
        .addNewIngress().withIp("203.0.113.7").withIpMode("Proxy").endIngress()
        .addNewIngress().withIp("203.0.113.8").withIpMode("VIP").endIngress()
        .addNewIngress().withIp("203.0.113.9").endIngress()
        .endLoadBalancer().endStatus().build();

    DesiredServices d = compile(state(List.of(lb),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", OTHER_NODE)))));

    assertThat(frontends(d)).as("ipMode Proxy: not programmed; VIP or unset: programmed")
        .containsExactly("10.96.0.1:80/TCP", "203.0.113.8:80/TCP", "203.0.113.9:80/TCP");
    assertThat(d.problems()).isEmpty();
  }

  @Test
  void twoServicesClaimingOneFrontendKeepTheFirstAndReportTheSecond() {
    Service a = new ServiceBuilder(clusterIp("a", "10.96.0.1", tcp(80, 8080)))
        .editSpec().withExternalIPs("198.51.100.9").endSpec().build();
    Service b = new ServiceBuilder(clusterIp("b", "10.96.0.2", tcp(80, 9090)))
        .editSpec().withExternalIPs("198.51.100.9").endSpec().build();

    DesiredServices d = compile(state(List.of(b, a),
        List.of(slice("a", "a-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)),
            slice("b", "b-1", unnamedTcp(9090), ready("10.0.1.3", THIS_NODE)))));

    assertThat(slotBackends(d, key("198.51.100.9", 80))).containsExactly("10.0.1.2:8080");
    assertThat(slotBackends(d, key("10.96.0.2", 80))).containsExactly("10.0.1.3:9090");
    assertThat(d.problems()).singleElement().satisfies(p -> {
      assertThat(p.reason()).isEqualTo(Reason.PortConflict);
      assertThat(p.object().name()).isEqualTo("b");
    });
  }

  @Test
  void sctpPortsAreReportedAsUnsupportedAndTheOtherPortsStillCompile() {
    DesiredServices d = compile(state(
        List.of(clusterIp("sig", "10.96.0.1", port("sctp", 3868, "SCTP", 3868),
            port("tcp", 3869, "TCP", 3869))),
        List.of()));

    assertThat(frontends(d)).containsExactly("10.96.0.1:3869/TCP");
    assertThat(d.problems()).extracting(Problem::reason)
        .containsExactly(Reason.UnsupportedProtocol);
  }

  // ---- Sharing, summary, determinism ----

  @Test
  void servicesReachingTheSamePodPortShareOneBackend() {
    DesiredServices d = compile(state(
        List.of(clusterIp("a", "10.96.0.1", tcp(80, 8080)), clusterIp("b", "10.96.0.2",
            tcp(8080, 8080))),
        List.of(slice("a", "a-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)),
            slice("b", "b-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE)))));

    assertThat(d.backends()).hasSize(1);
    assertThat(d.services().get(key("10.96.0.1", 80).withSlot(1)).backendId())
        .isEqualTo(d.services().get(key("10.96.0.2", 8080).withSlot(1)).backendId());
  }

  @Test
  void summaryListsTheProgrammedFrontendsOfEachService() {
    DesiredServices d = compile(state(
        List.of(nodePort("web", "10.96.0.1", withNodePort(tcp(80, 8080), 30080))),
        List.of(slice("web", "web-1", unnamedTcp(8080), ready("10.0.1.2", THIS_NODE))),
        node(THIS_NODE, address("InternalIP", "192.168.0.10"))));

    assertThat(d.frontends()).hasSize(1);
    List<ProgrammedFrontend> web = d.frontends().values().iterator().next();
    assertThat(web).extracting(f -> f.kind() + " " + f.address() + " " + f.backends())
        .containsExactlyInAnyOrder("CLUSTER_IP 10.96.0.1:80/TCP 1",
            "NODE_PORT 192.168.0.10:30080/TCP 1");
    assertThat(web).allSatisfy(f -> assertThat(d.revNat()).containsKey(f.revNatId()));
  }

  @Test
  void sameInputInAnyOrderGivesTheSameOutput() {
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> slices = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      services.add(nodePort("svc-" + i, "10.96.1." + i,
          withNodePort(tcp(80, 8080), 30000 + i), port("dns", 53, "UDP", 53)));
      slices.add(slice("svc-" + i, "svc-" + i + "-a", unnamedTcp(8080),
          ready("10.0.1." + i, THIS_NODE), ready("10.0.2." + (i % 5), OTHER_NODE)));
      slices.add(slice("svc-" + i, "svc-" + i + "-b", List.of(slicePort("dns", 53, "UDP")),
          ready("10.0.3." + i, THIS_NODE)));
    }
    var node = node(THIS_NODE, address("InternalIP", "192.168.0.10"));
    DesiredServices first = compile(state(services, slices, node));

    for (long seed = 1; seed <= 5; seed++) {
      List<Service> shuffledServices = new ArrayList<>(services);
      List<EndpointSlice> shuffledSlices = new ArrayList<>(slices);
      Collections.shuffle(shuffledServices, new Random(seed));
      Collections.shuffle(shuffledSlices, new Random(seed + 100));
      DesiredServices again = compile(state(shuffledServices, shuffledSlices, node));
      assertThat(again).isEqualTo(first);
      assertThat(List.copyOf(again.services().keySet()))
          .isEqualTo(List.copyOf(first.services().keySet()));
    }
  }

  private static String stateName(Lb4Backend backend) {
    return backend.state() == Lb4Backend.STATE_ACTIVE ? "ACTIVE" : "TERMINATING";
  }
}
