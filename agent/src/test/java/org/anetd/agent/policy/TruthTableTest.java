package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.anyPeer;
import static org.anetd.agent.policy.Fixtures.block;
import static org.anetd.agent.policy.Fixtures.both;
import static org.anetd.agent.policy.Fixtures.cport;
import static org.anetd.agent.policy.Fixtures.expr;
import static org.anetd.agent.policy.Fixtures.named;
import static org.anetd.agent.policy.Fixtures.namespaces;
import static org.anetd.agent.policy.Fixtures.np;
import static org.anetd.agent.policy.Fixtures.pods;
import static org.anetd.agent.policy.Fixtures.port;
import static org.anetd.agent.policy.Fixtures.range;
import static org.anetd.agent.policy.Fixtures.rule;
import static org.anetd.agent.policy.Fixtures.sel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upstream-style truth tables: namespaces x, y, z, each with pods a, b, c serving TCP and UDP on
 * 80 and 81 (named serve-80-tcp...). Pods a and b run on node-1, c on node-2, so every table
 * crosses nodes. For each case every (from, to, protocol, port) is checked three ways: the
 * compiled maps through {@link PolicyLookup}, the expected table written here from the policy's
 * intent, and {@link PolicyTrace}.
 */
class TruthTableTest {
  static final List<String> NAMESPACES = List.of("x", "y", "z");
  static final List<String> PODS = List.of("a", "b", "c");
  static final List<Namespace> NS = NAMESPACES.stream().map(n -> Fixtures.ns(n, "ns=" + n)).toList();
  static final List<Pod> ALL = ninePods();

  /** One probe. */
  record Conn(String fromNs, String fromPod, String toNs, String toPod, Protocol proto, int port) {
    boolean self() {
      return fromNs.equals(toNs) && fromPod.equals(toPod);
    }

    boolean to(String ns, String pod) {
      return toNs.equals(ns) && toPod.equals(pod);
    }

    boolean from(String ns, String pod) {
      return fromNs.equals(ns) && fromPod.equals(pod);
    }

    @Override
    public String toString() {
      return fromNs + "/" + fromPod + " -> " + toNs + "/" + toPod + " " + proto + "/" + port;
    }
  }

  static List<Pod> ninePods() {
    return Fixtures.ninePods("10.1", p -> p == 2 ? Fixtures.OTHER_NODE : Fixtures.NODE);
  }

  static Arguments table(String name, Predicate<Conn> allowed, NetworkPolicy... policies) {
    return Arguments.of(name, List.of(policies), allowed);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        table("noPolicyAllowsEverything", c -> true),
        table("denyAllIngressIsolatesNamespace", c -> !c.toNs().equals("x"),
            np("x", "deny-all").types("Ingress").build()),
        table("allowFromSameNamespace", c -> !c.toNs().equals("x") || c.fromNs().equals("x"),
            np("x", "same-ns").ingress(rule(List.of(pods(sel())))).build()),
        table("allowFromNamespaceY", c -> !c.to("x", "a") || c.fromNs().equals("y"),
            np("x", "from-y").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=y"))))).build()),
        table("namespaceAndPodSelectorInOnePeerAreAnded",
            c -> !c.to("x", "a") || c.from("y", "b"),
            np("x", "and").select(sel("pod=a"))
                .ingress(rule(List.of(both(sel("ns=y"), sel("pod=b"))))).build()),
        table("twoPeersAreOred",
            c -> !c.to("x", "a") || c.fromNs().equals("y") || c.from("x", "b"),
            np("x", "or").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=y")), pods(sel("pod=b"))))).build()),
        table("emptyNamespaceSelectorMatchesAllNamespaces",
            c -> !c.to("x", "a") || c.fromPod().equals("b"),
            np("x", "all-ns-b").select(sel("pod=a"))
                .ingress(rule(List.of(both(sel(), sel("pod=b"))))).build()),
        table("namedIngressPortResolvesOnTarget",
            c -> !c.to("x", "a") || c.proto() == Protocol.TCP && c.port() == 81,
            np("x", "named").select(sel("pod=a")).ingress(anyPeer(named("TCP", "serve-81-tcp")))
                .build()),
        table("namedEgressPortResolvesOnPeer",
            c -> !c.from("x", "a") || c.proto() == Protocol.UDP && c.port() == 80,
            np("x", "named-egress").select(sel("pod=a")).types("Egress")
                .egress(anyPeer(named("UDP", "serve-80-udp"))).build()),
        table("endPortRangeIsEnforced",
            c -> !c.to("x", "a") || c.proto() == Protocol.TCP && c.port() == 81,
            np("x", "range").select(sel("pod=a")).ingress(anyPeer(range("TCP", 81, 82))).build()),
        table("ipBlockExceptCarvesOutOnePod", c -> !c.to("x", "a") || !c.from("y", "b"),
            np("x", "cidr").select(sel("pod=a"))
                .ingress(rule(List.of(block("10.1.0.0/16", "10.1.2.2/32")))).build()),
        table("ipBlockOfOnePodAllowsOnlyIt", c -> !c.to("x", "a") || c.from("z", "c"),
            np("x", "one").select(sel("pod=a")).ingress(rule(List.of(block("10.1.3.3/32"))))
                .build()),
        table("egressDenyAllIsolatesSources", c -> !c.fromNs().equals("y"),
            np("y", "deny-egress").types("Egress").build()),
        table("egressToNamespaceOnOnePort",
            c -> !c.fromNs().equals("x") || c.toNs().equals("z") && c.proto() == Protocol.UDP
                && c.port() == 81,
            np("x", "to-z").types("Egress")
                .egress(rule(List.of(namespaces(sel("ns=z"))), port("UDP", 81))).build()),
        table("policiesAreAdditive", c -> !c.to("x", "a") || !c.fromNs().equals("x"),
            np("x", "from-y").select(sel("pod=a")).ingress(rule(List.of(namespaces(sel("ns=y")))))
                .build(),
            np("x", "from-z").select(sel("pod=a")).ingress(rule(List.of(namespaces(sel("ns=z")))))
                .build()),
        table("allowAllBeatsDenyAllOnItsPods", c -> !c.toNs().equals("x") || c.toPod().equals("a"),
            np("x", "deny-all").types("Ingress").build(),
            np("x", "allow-a").select(sel("pod=a")).ingress(rule(List.of())).build()),
        table("notInSelectorIsolatesTheOthers",
            c -> !c.toNs().equals("x") || c.toPod().equals("a"),
            np("x", "not-a").select(expr("pod", "NotIn", "a")).types("Ingress").build()),
        table("egressRulesIgnoredWithoutEgressType", c -> !c.to("x", "a"),
            np("x", "in-only").select(sel("pod=a")).types("Ingress")
                .egress(rule(List.of(namespaces(sel("ns=y"))))).build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void datapathMatchesTruthTable(String name, List<NetworkPolicy> policies,
      Predicate<Conn> expected) {
    ClusterState state = Fixtures.state(NS, ALL, policies);
    Datapath dp = Datapath.compile(state);
    List<String> wrong = new ArrayList<>();
    for (Pod from : ALL) {
      for (Pod to : ALL) {
        for (Protocol proto : List.of(Protocol.TCP, Protocol.UDP)) {
          for (int port : List.of(80, 81)) {
            Conn c = new Conn(Cluster.namespace(from), from.getMetadata().getName(),
                Cluster.namespace(to), to.getMetadata().getName(), proto, port);
            boolean want = c.self() || expected.test(c);
            boolean got = dp.allows(from, to, proto, port);
            PolicyTrace t = PolicyTrace.trace(state,
                PolicyTrace.Subject.pod(c.fromNs(), c.fromPod()),
                PolicyTrace.Subject.pod(c.toNs(), c.toPod()), proto, port);
            if (got != want || t.allowed() != want) {
              wrong.add(c + ": want " + want + ", datapath " + got + ", trace " + t.allowed());
            }
          }
        }
      }
    }
    assertThat(wrong).as(name).isEmpty();
  }

  @Test
  void deletingThePolicyRestoresAccessAndKeepsIdentities() {
    List<NetworkPolicy> denyAll = List.of(np("x", "deny-all").types("Ingress").build());
    Datapath before = Datapath.compile(Fixtures.state(NS, ALL, denyAll));
    Pod ya = ALL.get(3);
    Pod xa = ALL.get(0);
    assertThat(before.allows(ya, xa, Protocol.TCP, 80)).isFalse();

    Datapath after = Datapath.compile(Fixtures.state(NS, ALL, List.of()), before.allocations());

    assertThat(after.allows(ya, xa, Protocol.TCP, 80)).isTrue();
    assertThat(after.on(Fixtures.NODE).entries()).isEmpty();
    assertThat(after.on(Fixtures.NODE).identities().podIdentities())
        .isEqualTo(before.on(Fixtures.NODE).identities().podIdentities());
  }
}
