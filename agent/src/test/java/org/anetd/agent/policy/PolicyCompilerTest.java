package org.anetd.agent.policy;

import static org.anetd.agent.datapath.PolicyKey.DIR_EGRESS;
import static org.anetd.agent.datapath.PolicyKey.DIR_INGRESS;
import static org.anetd.agent.policy.Fixtures.anyPeer;
import static org.anetd.agent.policy.Fixtures.anyPort;
import static org.anetd.agent.policy.Fixtures.block;
import static org.anetd.agent.policy.Fixtures.cport;
import static org.anetd.agent.policy.Fixtures.expr;
import static org.anetd.agent.policy.Fixtures.named;
import static org.anetd.agent.policy.Fixtures.namespaces;
import static org.anetd.agent.policy.Fixtures.np;
import static org.anetd.agent.policy.Fixtures.ns;
import static org.anetd.agent.policy.Fixtures.pod;
import static org.anetd.agent.policy.Fixtures.pods;
import static org.anetd.agent.policy.Fixtures.port;
import static org.anetd.agent.policy.Fixtures.range;
import static org.anetd.agent.policy.Fixtures.rule;
import static org.anetd.agent.policy.Fixtures.sel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyCompilerTest {
  // x/a and x/b are local (endpoints 1 and 2), y/a runs on the other node. Each declares
  // containerPort "http" on a different number.
  static final Pod XA = pod("x", "a", "10.0.0.1", Fixtures.NODE,
      List.of(cport("http", 8080, "TCP")), "pod=a");
  static final Pod XB = pod("x", "b", "10.0.0.2", Fixtures.NODE,
      List.of(cport("http", 9090, "TCP")), "pod=b");
  static final Pod YA = pod("y", "a", "10.0.1.1", Fixtures.OTHER_NODE,
      List.of(cport("http", 7070, "TCP")), "pod=a");
  static final List<Pod> PODS = List.of(XA, XB, YA);
  static final long EP_XA = 1;
  static final long EP_XB = 2;

  static DesiredPolicy compile(NetworkPolicy... policies) {
    return compile(PODS, List.of(policies));
  }

  static DesiredPolicy compile(List<Pod> pods, List<NetworkPolicy> policies) {
    return compile(pods, policies, Map.of());
  }

  static DesiredPolicy compile(List<Pod> pods, List<NetworkPolicy> policies,
      Map<Long, List<ObjectRef>> previousSets) {
    ClusterState s = Fixtures.state(List.of(ns("x", "ns=x"), ns("y", "ns=y")), pods, policies);
    // Endpoint ids come from PODS, whatever order the snapshot lists pods in.
    return PolicyCompiler.compile(s, Fixtures.endpoints(PODS, Fixtures.NODE),
        IdentityAllocation.EMPTY, PolicyCompiler.Enforcement.DEFAULT, previousSets);
  }

  static long id(DesiredPolicy d, Pod p) {
    return d.identities().of(p).orElseThrow();
  }

  /** The endpoint's entries in one direction, without the implicit node-local one. */
  static Set<PolicyKey> keys(DesiredPolicy d, long ep, int dir) {
    return d.entries().keySet().stream()
        .filter(k -> k.endpointId() == ep && k.direction() == dir)
        .filter(k -> k.identity() != Ipcache4Value.IDENTITY_HOST)
        .collect(Collectors.toSet());
  }

  static PolicyKey tcp(long ep, long peer, int dir, int port) {
    return PolicyKey.portPrefix(ep, peer, dir, Protocol.TCP, port, 16);
  }

  static List<ObjectRef> policiesOf(DesiredPolicy d, PolicyKey k) {
    return d.policySets().get(d.entries().get(k).policySetId());
  }

  static ObjectRef ref(String ns, String name) {
    return new ObjectRef("NetworkPolicy", ns, name);
  }

  @Test
  void noPolicyLeavesEndpointUnisolated() {
    DesiredPolicy d = compile();
    assertThat(d.endpoints()).containsEntry(EP_XA, new EndpointPolicy(id(d, XA), 0));
    assertThat(d.entries()).isEmpty();
  }

  @Test
  void missingPolicyTypesMeansIngressOnly() {
    DesiredPolicy d = compile(np("x", "p").ingress(rule(List.of())).build());
    assertThat(d.endpoints().get(EP_XA).flags()).isEqualTo(EndpointPolicy.F_INGRESS_ISOLATED);
  }

  @Test
  void egressRulesImplyEgressType() {
    DesiredPolicy d = compile(np("x", "p").egress(rule(List.of())).build());
    assertThat(d.endpoints().get(EP_XA).flags())
        .isEqualTo(EndpointPolicy.F_INGRESS_ISOLATED | EndpointPolicy.F_EGRESS_ISOLATED);
  }

  @Test
  void policyOfOtherNamespaceDoesNotSelect() {
    DesiredPolicy d = compile(np("y", "p").types("Ingress", "Egress").build());
    assertThat(d.endpoints().get(EP_XA).flags()).isZero();
  }

  @Test
  void emptyFromAllowsAllSources() {
    DesiredPolicy d = compile(np("x", "p").ingress(rule(List.of())).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS)).containsExactly(PolicyKey.allPorts(EP_XA, 0, DIR_INGRESS));
  }

  @Test
  void emptyIngressListDeniesAllButTheNode() {
    DesiredPolicy d = compile(np("x", "p").types("Ingress").build());
    PolicyKey node = PolicyKey.allPorts(EP_XA, Ipcache4Value.IDENTITY_HOST, DIR_INGRESS);
    assertThat(d.entries().keySet()).filteredOn(k -> k.endpointId() == EP_XA).containsExactly(node);
    assertThat(d.entries().get(node).policySetId()).isEqualTo(DesiredPolicy.NODE_LOCAL_POLICY_SET);
    assertThat(d.policySets().get(DesiredPolicy.NODE_LOCAL_POLICY_SET)).isEmpty();
  }

  @Test
  void portsWithoutFromAllowAnyPeerOnThosePorts() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(port("TCP", 80))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS)).containsExactly(tcp(EP_XA, 0, DIR_INGRESS, 80));
  }

  @Test
  void protocolDefaultsToTcp() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(port(null, 80))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS)).containsExactly(tcp(EP_XA, 0, DIR_INGRESS, 80));
  }

  @Test
  void portWithoutNumberAllowsEveryPortOfItsProtocol() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(anyPort("SCTP"))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS))
        .containsExactly(PolicyKey.portPrefix(EP_XA, 0, DIR_INGRESS, Protocol.SCTP, 0, 0));
  }

  @Test
  void endPortRangeExpandsToPrefixes() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(range("UDP", 80, 83))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS))
        .containsExactly(PolicyKey.portPrefix(EP_XA, 0, DIR_INGRESS, Protocol.UDP, 80, 14));
  }

  @Test
  void podSelectorPeerMatchesOnlyThePolicyNamespace() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=b"))
        .ingress(rule(List.of(pods(sel("pod=a"))))).build());
    assertThat(keys(d, EP_XB, DIR_INGRESS))
        .containsExactly(PolicyKey.allPorts(EP_XB, id(d, XA), DIR_INGRESS));
  }

  @Test
  void namespaceSelectorPeerMatchesPodsOfSelectedNamespaces() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=b"))
        .ingress(rule(List.of(namespaces(sel("ns=y"))))).build());
    assertThat(keys(d, EP_XB, DIR_INGRESS))
        .containsExactly(PolicyKey.allPorts(EP_XB, id(d, YA), DIR_INGRESS));
  }

  @Test
  void namedPortResolvesPerTargetPod() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(named("TCP", "http"))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS)).containsExactly(tcp(EP_XA, 0, DIR_INGRESS, 8080));
    assertThat(keys(d, EP_XB, DIR_INGRESS)).containsExactly(tcp(EP_XB, 0, DIR_INGRESS, 9090));
  }

  @Test
  void egressNamedPortResolvesPerPeerIdentity() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=a")).types("Egress")
        .egress(anyPeer(named("TCP", "http"))).build());
    assertThat(keys(d, EP_XA, DIR_EGRESS)).containsExactlyInAnyOrder(
        tcp(EP_XA, id(d, XA), DIR_EGRESS, 8080), tcp(EP_XA, id(d, XB), DIR_EGRESS, 9090),
        tcp(EP_XA, id(d, YA), DIR_EGRESS, 7070));
  }

  @Test
  void ipBlockPeerCompilesToTheIdentitiesInsideIt() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=b"))
        .ingress(rule(List.of(block("10.0.0.0/16", "10.0.0.1/32")))).build());
    long cidr = d.identities().cidrIdentities().get(Cidr.parse("10.0.0.0/16"));
    // y/a and x/b are inside, x/a is excepted, the bare CIDR region is inside too.
    assertThat(keys(d, EP_XB, DIR_INGRESS)).containsExactlyInAnyOrder(
        PolicyKey.allPorts(EP_XB, id(d, YA), DIR_INGRESS),
        PolicyKey.allPorts(EP_XB, id(d, XB), DIR_INGRESS),
        PolicyKey.allPorts(EP_XB, cidr, DIR_INGRESS));
  }

  @Test
  void ipBlockOfAllAddressesIncludesWorld() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=a")).types("Egress")
        .egress(rule(List.of(block("0.0.0.0/0", "10.0.0.0/8")))).build());
    assertThat(keys(d, EP_XA, DIR_EGRESS))
        .containsExactly(PolicyKey.allPorts(EP_XA, Ipcache4Value.IDENTITY_WORLD, DIR_EGRESS));
  }

  @Test
  void onlyLocalEndpointsGetEntries() {
    Pod unwired = pod("x", "new", "10.0.0.9", "pod=a");
    List<Pod> pods = List.of(XA, XB, YA);
    ClusterState s = Fixtures.state(List.of(ns("x"), ns("y")), concat(pods, unwired),
        List.of(np("x", "p").types("Ingress").build(), np("y", "p").types("Ingress").build()));
    DesiredPolicy d = PolicyCompiler.compile(s, Fixtures.endpoints(pods, Fixtures.NODE),
        IdentityAllocation.EMPTY);
    assertThat(d.endpoints().keySet()).containsExactly(EP_XA, EP_XB);
    assertThat(d.entries().keySet()).extracting(PolicyKey::endpointId)
        .containsOnly(EP_XA, EP_XB);
  }

  @Test
  void multiplePoliciesOnOneKeyAreNamedInItsPolicySet() {
    DesiredPolicy d = compile(np("x", "p1").ingress(anyPeer(port("TCP", 80))).build(),
        np("x", "p2").ingress(anyPeer(port("TCP", 80))).build());
    assertThat(policiesOf(d, tcp(EP_XA, 0, DIR_INGRESS, 80)))
        .containsExactly(ref("x", "p1"), ref("x", "p2"));
  }

  @Test
  void coveringEntryPoliciesAreNamedOnTheLongerEntry() {
    DesiredPolicy d = compile(np("x", "all").ingress(rule(List.of())).build(),
        np("x", "web").ingress(rule(List.of(pods(sel("pod=b"))), port("TCP", 80))).build());
    assertThat(policiesOf(d, tcp(EP_XA, id(d, XB), DIR_INGRESS, 80)))
        .containsExactly(ref("x", "all"), ref("x", "web"));
    assertThat(policiesOf(d, PolicyKey.allPorts(EP_XA, 0, DIR_INGRESS)))
        .containsExactly(ref("x", "all"));
  }

  @Test
  void identicalPolicyListsInternToOneId() {
    DesiredPolicy d = compile(np("x", "p").ingress(anyPeer(port("TCP", 80))).build());
    assertThat(d.entries().get(tcp(EP_XA, 0, DIR_INGRESS, 80)).policySetId())
        .isEqualTo(d.entries().get(tcp(EP_XB, 0, DIR_INGRESS, 80)).policySetId())
        .isNotEqualTo(DesiredPolicy.NODE_LOCAL_POLICY_SET);
    assertThat(d.policySets()).hasSize(2); // the node-local set and {p}
  }

  @Test
  void unknownPortNameIsReportedAndMatchesNothing() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=a"))
        .ingress(anyPeer(named("TCP", "metrics"))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS)).isEmpty();
    assertThat(d.problems()).extracting(Problem::reason).containsExactly(Reason.UnknownPortName);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("invalidCidr", rule(List.of(block("10.0.0.300/32"))), Reason.InvalidCidr),
        Arguments.of("exceptOutsideCidr", rule(List.of(block("10.0.0.0/24", "10.1.0.0/24"))),
            Reason.InvalidCidr),
        Arguments.of("invalidExcept", rule(List.of(block("10.0.0.0/24", "nope"))),
            Reason.InvalidCidr),
        Arguments.of("ipBlockWithSelector", rule(List.of(
            new NetworkPolicyPeer(new IPBlock("10.0.0.0/8", List.of()), null, sel()))),
            Reason.InvalidPeer),
        Arguments.of("emptyPeer", rule(List.of(new NetworkPolicyPeer())), Reason.InvalidPeer),
        Arguments.of("invalidPeerSelector", rule(List.of(pods(expr("pod", "Like", "a")))),
            Reason.InvalidSelector),
        Arguments.of("portOutOfRange", anyPeer(port("TCP", 70000)), Reason.InvalidPort),
        Arguments.of("endPortBelowPort", anyPeer(range("TCP", 81, 80)), Reason.InvalidPort),
        Arguments.of("endPortWithNamedPort",
            anyPeer(new NetworkPolicyPort(90, new IntOrString("http"), "TCP")), Reason.InvalidPort),
        Arguments.of("invalidPortName", anyPeer(named("TCP", "Not_A_Name")), Reason.InvalidPort),
        Arguments.of("unsupportedProtocol", anyPeer(port("ICMP", 1)), Reason.UnsupportedProtocol));
  }

  /** Dropping the only peer (or port) must not leave "from: all" (or "all ports"). */
  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalidRulePartIsReportedAndNeverWidensAccess(String name, Fixtures.R bad, Reason reason) {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=a")).ingress(bad).build());
    assertThat(d.problems()).extracting(Problem::reason).containsExactly(reason);
    assertThat(d.endpoints().get(EP_XA).flags()).isEqualTo(EndpointPolicy.F_INGRESS_ISOLATED);
    assertThat(keys(d, EP_XA, DIR_INGRESS)).isEmpty();
  }

  @Test
  void invalidPeerIsDroppedButOtherPeersStay() {
    DesiredPolicy d = compile(np("x", "p").select(sel("pod=a"))
        .ingress(rule(List.of(block("bad"), pods(sel("pod=b"))))).build());
    assertThat(keys(d, EP_XA, DIR_INGRESS))
        .containsExactly(PolicyKey.allPorts(EP_XA, id(d, XB), DIR_INGRESS));
  }

  @Test
  void invalidPodSelectorSkipsThePolicy() {
    DesiredPolicy d = compile(np("x", "p").select(expr("pod", "In")).types("Ingress").build());
    assertThat(d.problems()).extracting(Problem::reason).containsExactly(Reason.InvalidSelector);
    assertThat(d.endpoints().get(EP_XA).flags()).isZero();
  }

  @Test
  void aPolicySetKeepsItsIdWhenANewSetSortsBeforeIt() {
    NetworkPolicy b = np("x", "b").select(sel("pod=b")).ingress(anyPeer(port("TCP", 80))).build();
    NetworkPolicy a = np("x", "a").select(sel("pod=a")).ingress(anyPeer(port("TCP", 81))).build();
    DesiredPolicy first = compile(PODS, List.of(b), Map.of());

    DesiredPolicy second = compile(PODS, List.of(a, b), first.policySets());

    assertThat(second.policySets()).containsEntry(1L, List.of(ref("x", "b")))
        .containsEntry(2L, List.of(ref("x", "a")));
    assertThat(compile(PODS, List.of(a, b), Map.of()).policySets())
        .as("numbered in sorted order without history")
        .containsEntry(1L, List.of(ref("x", "a")));
  }

  @Test
  void anIdRetiredInOnePassIsNotGivenToANewSetInTheNext() {
    NetworkPolicy a = np("x", "a").select(sel("pod=a")).ingress(anyPeer(port("TCP", 81))).build();
    NetworkPolicy b = np("x", "b").select(sel("pod=b")).ingress(anyPeer(port("TCP", 80))).build();
    NetworkPolicy c = np("x", "c").select(sel("pod=a")).ingress(anyPeer(port("TCP", 82))).build();
    DesiredPolicy first = compile(PODS, List.of(a, b), Map.of()); // a = 1, b = 2

    DesiredPolicy second = compile(PODS, List.of(b, c), first.policySets());
    DesiredPolicy third = compile(PODS, List.of(b, c, a), second.policySets());

    assertThat(second.policySets()).containsOnlyKeys(0L, 2L, 3L)
        .containsEntry(3L, List.of(ref("x", "c")));
    assertThat(third.policySets()).as("1 is free again a pass after a left")
        .containsEntry(1L, List.of(ref("x", "a"))).containsEntry(3L, List.of(ref("x", "c")));
  }

  @Test
  void outputDoesNotDependOnInputOrder() {
    List<NetworkPolicy> policies = List.of(
        np("x", "p1").ingress(rule(List.of(namespaces(sel("ns=y")))), anyPeer(port("UDP", 53)))
            .build(),
        np("x", "p2").select(sel("pod=b")).ingress(rule(List.of(block("10.0.0.0/8")))).build(),
        np("x", "p3").ingress(anyPeer(named("TCP", "http"))).build());
    DesiredPolicy a = compile(PODS, policies);
    List<Pod> pods = new ArrayList<>(PODS);
    List<NetworkPolicy> reversed = new ArrayList<>(policies);
    Collections.reverse(pods);
    Collections.reverse(reversed);
    DesiredPolicy b = compile(pods, reversed);
    assertThat(b.entries()).isEqualTo(a.entries());
    assertThat(b.policySets()).isEqualTo(a.policySets());
    assertThat(b.identities().allocation()).isEqualTo(a.identities().allocation());
    assertThat(a.entries()).isNotEmpty();
  }

  private static List<Pod> concat(List<Pod> pods, Pod... more) {
    List<Pod> out = new ArrayList<>(pods);
    out.addAll(Arrays.asList(more));
    return out;
  }

}
