package org.anetd.agent.daemon;

import static org.anetd.agent.daemon.ClusterFixtures.clusterIp;
import static org.anetd.agent.daemon.ClusterFixtures.denyIngress;
import static org.anetd.agent.daemon.ClusterFixtures.pod;
import static org.anetd.agent.daemon.ClusterFixtures.slice;
import static org.anetd.agent.daemon.ClusterFixtures.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.anetd.agent.datapath.InMemoryMapBackend;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.service.DesiredServices;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and hostile objects never stop the agent: each is skipped with a problem naming the
 * object and why, and the good Service next to it keeps exactly the datapath entries it had.
 */
class BadInputTest {
  private static final Map<String, Integer> LOCAL = Map.of("default/web-1", 11, "default/web-2", 12);

  /** A bad object (or edit) added to the good baseline cluster. */
  record Hostile(List<Service> services, List<EndpointSlice> slices, List<Pod> pods,
      List<NetworkPolicy> policies) {
    static Hostile service(Service s) {
      return new Hostile(List.of(s), List.of(), List.of(), List.of());
    }

    static Hostile service(Service s, EndpointSlice e) {
      return new Hostile(List.of(s), List.of(e), List.of(), List.of());
    }

    static Hostile policy(NetworkPolicy p) {
      return new Hostile(List.of(), List.of(), List.of(), List.of(p));
    }

    static Hostile pod(Pod p) {
      return new Hostile(List.of(), List.of(), List.of(p), List.of());
    }
  }

  private static ClusterState baseline(Hostile extra) {
    Service web = clusterIp("default", "web", "198.19.0.10", 80, 8080);
    web.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    List<Service> services = new ArrayList<>(List.of(web));
    List<EndpointSlice> slices = new ArrayList<>(List.of(slice("default", "web", 8080, "198.18.0.11", "198.18.0.12")));
    List<Pod> pods = new ArrayList<>(List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web")),
        pod("default", "web-2", "198.18.0.12", Map.of("app", "web"))));
    List<NetworkPolicy> policies = new ArrayList<>(List.of(denyIngress("default", "web")));
    services.addAll(extra.services());
    slices.addAll(extra.slices());
    pods.addAll(extra.pods());
    policies.addAll(extra.policies());
    return state(1, services, slices, pods, policies);
  }

  private static Service svc(String name, UnaryOperator<ServiceBuilder> edit) {
    return edit.apply(new ServiceBuilder(clusterIp("default", name, "198.19.0.20", 80, 8080)))
        .build();
  }

  private static NetworkPolicy netpol(String name, String ingressJson) {
    NetworkPolicy p = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\""
            + name + "\",\"namespace\":\"default\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
            + "{\"app\":\"web\"}},\"ingress\":[" + ingressJson + "]}}", NetworkPolicy.class);
    return new NetworkPolicyBuilder(p).build();
  }

  static Stream<Arguments> hostileObjects() {
    return Stream.of(
        Arguments.of("clusterIP out of range", Hostile.service(svc("bad-ip",
            b -> b.editSpec().withClusterIP("999.1.1.1").withClusterIPs("999.1.1.1").endSpec())),
            Reason.InvalidIp, "bad-ip"),
        Arguments.of("clusterIP not an address", Hostile.service(svc("not-ip",
            b -> b.editSpec().withClusterIP("banana").withClusterIPs("banana").endSpec())),
            Reason.InvalidIp, "not-ip"),
        Arguments.of("nodePort outside node-port-range", Hostile.service(svc("low-nodeport",
            b -> b.editSpec().withType("NodePort").editFirstPort().withNodePort(80).endPort()
                .endSpec())), Reason.InvalidPort, "low-nodeport"),
        Arguments.of("unsupported protocol", Hostile.service(svc("icmp",
            b -> b.editSpec().editFirstPort().withProtocol("ICMP").endPort().endSpec())),
            Reason.UnsupportedProtocol, "icmp"),
        Arguments.of("affinity timeout zero", Hostile.service(svc("affinity-0",
            b -> b.editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig()
                .withNewClientIP().withTimeoutSeconds(0).endClientIP().endSessionAffinityConfig()
                .endSpec())), Reason.InvalidTimeout, "affinity-0"),
        Arguments.of("affinity timeout beyond a day", Hostile.service(svc("affinity-big",
            b -> b.editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig()
                .withNewClientIP().withTimeoutSeconds(100000).endClientIP()
                .endSessionAffinityConfig().endSpec())), Reason.InvalidTimeout, "affinity-big"),
        Arguments.of("named targetPort no slice resolves", Hostile.service(svc("named",
            b -> b.editSpec().editFirstPort().withName("http").withTargetPort(new IntOrString("nope"))
                .endPort().endSpec()), slice("default", "named", 8080, "198.18.0.11")),
            Reason.UnknownPortName, "named"),
        Arguments.of("second Service on the same address and port", Hostile.service(svc("twin",
            b -> b.editSpec().withClusterIP("198.19.0.10").withClusterIPs("198.19.0.10")
                .endSpec())), Reason.PortConflict, "twin"),
        Arguments.of("LoadBalancer ingress IP malformed", Hostile.service(svc("lb-bad",
            b -> b.editSpec().withType("LoadBalancer").editFirstPort().withNodePort(30080)
                .endPort().endSpec().withNewStatus().withNewLoadBalancer().addNewIngress()
                .withIp("1.2.3").endIngress().endLoadBalancer().endStatus())),
            Reason.InvalidIp, "lb-bad"),
        Arguments.of("externalIP malformed", Hostile.service(svc("ext-bad",
            b -> b.editSpec().withExternalIPs("300.1.1.1").endSpec())), Reason.InvalidIp,
            "ext-bad"),
        Arguments.of("ipBlock prefix length 33", Hostile.policy(netpol("cidr-33",
            "{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}")), Reason.InvalidCidr, "cidr-33"),
        Arguments.of("ipBlock not a CIDR", Hostile.policy(netpol("cidr-banana",
            "{\"from\":[{\"ipBlock\":{\"cidr\":\"banana\"}}]}")), Reason.InvalidCidr, "cidr-banana"),
        Arguments.of("ipBlock except outside its CIDR", Hostile.policy(netpol("except-out",
            "{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/24\",\"except\":[\"10.1.0.0/24\"]}}]}")),
            Reason.InvalidCidr, "except-out"),
        Arguments.of("named port no target pod has", Hostile.policy(netpol("port-name",
            "{\"ports\":[{\"port\":\"nope\"}]}")), Reason.UnknownPortName, "port-name"),
        Arguments.of("endPort below port", Hostile.policy(netpol("end-below",
            "{\"ports\":[{\"port\":90,\"endPort\":80}]}")), Reason.InvalidPort, "end-below"),
        Arguments.of("port beyond 65535", Hostile.policy(netpol("port-big",
            "{\"ports\":[{\"port\":70000}]}")), Reason.InvalidPort, "port-big"),
        Arguments.of("selector with an unknown operator", Hostile.policy(netpol("bad-op",
            "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Maybe\",\"values\":[\"x\"]}]}}]}")),
            Reason.InvalidSelector, "bad-op"),
        Arguments.of("selector In without values", Hostile.policy(netpol("in-empty",
            "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}}]}")),
            Reason.InvalidSelector, "in-empty"),
        Arguments.of("ipBlock together with a podSelector", Hostile.policy(netpol("mixed-peer",
            "{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}")),
            Reason.InvalidPeer, "mixed-peer"),
        Arguments.of("unsupported policy protocol", Hostile.policy(netpol("proto-icmp",
            "{\"ports\":[{\"protocol\":\"ICMP\",\"port\":80}]}")), Reason.UnsupportedProtocol,
            "proto-icmp"));
  }

  private static Reconciler reconciler() {
    return new Reconciler(new LoadBalancerWriter(new InMemoryMapBackend("services", 65536),
        new InMemoryMapBackend("backends", 65536), new InMemoryMapBackend("rev", 65535)),
        new PolicyWriter(new InMemoryMapBackend("policy", 65536),
            new InMemoryMapBackend("endpoints", 65536), new InMemoryMapBackend("ipcache", 65536)),
        List.of(new InMemoryMapBackend("ct", 1024)), ServiceCompilerConfig.defaults(),
        IdentityAllocation.EMPTY, Clock.systemUTC());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileObjects")
  void hostileObjectIsReportedAndTheGoodServiceKeepsItsEntries(String why, Hostile hostile,
      Reason reason, String objectName) {
    Reconciler agent = reconciler();
    Reconciler.Report good = agent.reconcile(baseline(new Hostile(List.of(), List.of(),
        List.of(), List.of())), LOCAL);
    DesiredServices goodServices = agent.desiredServices();

    Reconciler.Report bad = agent.reconcile(baseline(hostile), LOCAL);
    DesiredServices badServices = agent.desiredServices();

    assertThat(bad.problems()).as("problems for %s", why)
        .anySatisfy(p -> {
          assertThat(p.reason()).isEqualTo(reason);
          assertThat(p.object().name()).isEqualTo(objectName);
          assertThat(p.message()).isNotBlank();
        });
    assertThat(bad.problems()).extracting(Problem::object)
        .noneMatch(o -> o.name().equals("web") || o.name().equals("deny-web"));
    goodServices.services().forEach((key, value) -> {
      if (key.address().toString().equals("198.19.0.10")) {
        assertThat(badServices.services()).as("good frontend %s", key)
            .containsEntry(key, value);
      }
    });
    assertThat(bad.desiredPolicy().endpoints()).isEqualTo(good.desiredPolicy().endpoints());
    assertThat(badServices.backends()).containsAllEntriesOf(goodServices.backends());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileObjects")
  void aNewcomerNeverDisplacesTheGoodServiceEvenOnAFreshAgent(String why, Hostile hostile,
      Reason reason, String objectName) {
    Reconciler freshAgent = reconciler();
    Reconciler.Report fresh = freshAgent.reconcile(baseline(hostile), LOCAL);

    assertThat(freshAgent.desiredServices().frontends().keySet())
        .anyMatch(ref -> ref.name().equals("web"));
    assertThat(fresh.problems()).extracting(Problem::object)
        .noneMatch(o -> o.name().equals("web"));
  }
}
