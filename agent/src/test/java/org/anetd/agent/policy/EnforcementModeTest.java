package org.anetd.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;

/** enable-policy: default isolates selected pods, always isolates all, never isolates none. */
class EnforcementModeTest {
  private static final Map<String, Integer> LOCAL = Map.of("x/a", 1, "x/b", 2);

  private static ClusterState cluster() {
    var ns = new NamespaceBuilder().withNewMetadata().withName("x").endMetadata().build();
    var a = new PodBuilder().withNewMetadata().withNamespace("x").withName("a")
        .withLabels(Map.of("pod", "a")).endMetadata().withNewSpec().withNodeName("n").endSpec()
        .withNewStatus().withPhase("Running").withPodIP("198.18.0.2").endStatus().build();
    var b = new PodBuilder(a).editMetadata().withName("b").withLabels(Map.of("pod", "b"))
        .endMetadata().editStatus().withPodIP("198.18.0.3").endStatus().build();
    var denyA = new NetworkPolicyBuilder().withNewMetadata().withNamespace("x").withName("deny-a")
        .endMetadata().withNewSpec().withNewPodSelector().withMatchLabels(Map.of("pod", "a"))
        .endPodSelector().withPolicyTypes("Ingress").endSpec().build();
    return new ClusterState(1, "n", List.of(), List.of(), List.of(a, b), List.of(ns),
        List.of(denyA), List.of());
  }

  private static int flags(DesiredPolicy p, long ep) {
    return p.endpoints().get(ep).flags();
  }

  @Test
  void defaultIsolatesOnlySelectedEndpointsInTheirPolicyDirections() {
    DesiredPolicy p = PolicyCompiler.compile(cluster(), LOCAL, IdentityAllocation.EMPTY,
        PolicyCompiler.Enforcement.DEFAULT);

    assertThat(flags(p, 1)).isEqualTo(EndpointPolicy.F_INGRESS_ISOLATED);
    assertThat(flags(p, 2)).isZero();
  }

  @Test
  void alwaysIsolatesEveryEndpointBothWaysAndStillAllowsItsNode() {
    DesiredPolicy p = PolicyCompiler.compile(cluster(), LOCAL, IdentityAllocation.EMPTY,
        PolicyCompiler.Enforcement.ALWAYS);

    int both = EndpointPolicy.F_INGRESS_ISOLATED | EndpointPolicy.F_EGRESS_ISOLATED;
    assertThat(flags(p, 1)).isEqualTo(both);
    assertThat(flags(p, 2)).isEqualTo(both);
    assertThat(p.entries()).containsKey(PolicyKey.allPorts(2, Ipcache4Value.IDENTITY_HOST, 0))
        .containsKey(PolicyKey.allPorts(2, Ipcache4Value.IDENTITY_HOST, 1));
  }

  @Test
  void neverIsolatesNothingAndWritesNoEntries() {
    DesiredPolicy p = PolicyCompiler.compile(cluster(), LOCAL, IdentityAllocation.EMPTY,
        PolicyCompiler.Enforcement.NEVER);

    assertThat(flags(p, 1)).isZero();
    assertThat(p.entries()).isEmpty();
  }
}
