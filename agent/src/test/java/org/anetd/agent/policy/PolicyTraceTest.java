package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.block;
import static org.anetd.agent.policy.Fixtures.namespaces;
import static org.anetd.agent.policy.Fixtures.np;
import static org.anetd.agent.policy.Fixtures.rule;
import static org.anetd.agent.policy.Fixtures.sel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.List;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.policy.PolicyTrace.Subject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyTraceTest {
  static final List<Pod> PODS = TruthTableTest.ALL;
  static final NetworkPolicy FROM_Y = np("x", "from-y").select(sel("pod=a"))
      .ingress(rule(List.of(namespaces(sel("ns=y"))))).build();

  static ClusterState state(NetworkPolicy... policies) {
    return Fixtures.state(TruthTableTest.NS, PODS, List.of(policies));
  }

  @Test
  void denyNamesTheIsolatingPolicy() {
    PolicyTrace t = PolicyTrace.trace(state(FROM_Y), Subject.pod("z", "b"), Subject.pod("x", "a"),
        Protocol.TCP, 80);
    assertThat(t.allowed()).isFalse();
    assertThat(t.ingress().isolating())
        .containsExactly(new ObjectRef("NetworkPolicy", "x", "from-y"));
    assertThat(t.decidedBy()).contains("ingress default deny").contains("x/from-y");
    assertThat(t.render()).contains("verdict: DENIED").contains("no rule matches");
  }

  @Test
  void allowNamesTheMatchingRule() {
    PolicyTrace t = PolicyTrace.trace(state(FROM_Y), Subject.pod("y", "b"), Subject.pod("x", "a"),
        Protocol.UDP, 81);
    assertThat(t.allowed()).isTrue();
    assertThat(t.ingress().matches()).singleElement()
        .satisfies(m -> assertThat(m.rule()).isZero())
        .satisfies(m -> assertThat(m.peer()).contains("ns=y"));
    assertThat(t.egress().reason()).startsWith("not isolated");
    assertThat(t.render()).contains("allowed by NetworkPolicy/x/from-y ingress[0]")
        .contains("verdict: ALLOWED");
  }

  @Test
  void ownNodeIsAlwaysAllowed() {
    PolicyTrace t = PolicyTrace.trace(state(np("x", "deny").types("Ingress").build()),
        Subject.ip(Fixtures.NODE_IP), Subject.pod("x", "a"), Protocol.TCP, 80);
    assertThat(t.allowed()).isTrue();
    assertThat(t.ingress().reason()).contains("own node");
  }

  /** Outside addresses against a block with an except: trace and datapath agree. */
  @ParameterizedTest(name = "{0} -> x/a: {1}")
  @CsvSource({"172.16.1.1, true", "172.16.5.5, false", "8.8.8.8, false",
      Fixtures.OTHER_NODE_IP + ", false"})
  void externalAddressFollowsIpBlockExcept(String src, boolean allowed) {
    ClusterState s = state(np("x", "ext").select(sel("pod=a"))
        .ingress(rule(List.of(block("172.16.0.0/12", "172.16.5.0/24")))).build());
    Datapath dp = Datapath.compile(s);
    Pod xa = PODS.get(0);
    boolean got = dp.allows(null, Ipv4.parse(src), Fixtures.NODE,
        Cluster.primaryIpv4(xa).orElseThrow(), Protocol.TCP, 80);
    PolicyTrace t = PolicyTrace.trace(s, Subject.ip(src), Subject.pod("x", "a"), Protocol.TCP, 80);
    assertThat(got).isEqualTo(allowed);
    assertThat(t.allowed()).isEqualTo(allowed);
  }
}
