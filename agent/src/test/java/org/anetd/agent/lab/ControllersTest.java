package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lab controllers' decisions: EndpointSlices from pods, Deployment expansion. */
class ControllersTest {
  private static Pod pod(String name, String ip, boolean ready, String app, String portName,
      int port) {
    PodBuilder b = new PodBuilder().withNewMetadata().withNamespace("shop").withName(name)
        .withUid("uid-" + name).withLabels(Map.of("app", app)).endMetadata()
        .withNewSpec().withNodeName("anetd-lab-node-1").addNewContainer().withName("c")
        .addNewPort().withName(portName).withContainerPort(port).endPort().endContainer().endSpec();
    if (ip != null) {
      b.withNewStatus().withPhase("Running").withPodIP(ip).addNewCondition().withType("Ready")
          .withStatus(ready ? "True" : "False").endCondition().endStatus();
    }
    return b.build();
  }

  private static Service service(Object targetPort) {
    return new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("web")
        .withUid("svc-uid").endMetadata().withNewSpec().withSelector(Map.of("app", "web"))
        .addNewPort().withName("http").withPort(80).withTargetPort(targetPort instanceof Integer i
            ? new IntOrString(i) : new IntOrString((String) targetPort)).endPort().endSpec().build();
  }

  @Test
  void sliceListsReadyPodsOfTheSelectorWithTheirConditions() {
    Pod terminating = new PodBuilder(pod("web-c", "198.18.1.4", true, "web", "http", 8080))
        .editMetadata().withDeletionTimestamp("2026-01-01T00:00:00Z").endMetadata().build();
    List<EndpointSlice> slices = SliceDesign.desired(service(8080), List.of(
        pod("web-a", "198.18.1.2", true, "web", "http", 8080),
        pod("web-b", "198.18.1.3", false, "web", "http", 8080),
        terminating,
        pod("web-pending", null, false, "web", "http", 8080),
        pod("other", "198.18.1.9", true, "other", "http", 8080)));

    assertThat(slices).singleElement().satisfies(s -> {
      assertThat(s.getMetadata().getName()).isEqualTo("web-lab");
      assertThat(s.getMetadata().getLabels()).containsEntry("kubernetes.io/service-name", "web")
          .containsEntry("endpointslice.kubernetes.io/managed-by", "anetd-lab");
      assertThat(s.getMetadata().getOwnerReferences().get(0).getKind()).isEqualTo("Service");
      assertThat(s.getPorts()).singleElement().satisfies(p -> {
        assertThat(p.getName()).isEqualTo("http");
        assertThat(p.getPort()).isEqualTo(8080);
        assertThat(p.getProtocol()).isEqualTo("TCP");
      });
      assertThat(s.getEndpoints()).extracting(e -> e.getAddresses().get(0) + " ready="
              + e.getConditions().getReady() + " serving=" + e.getConditions().getServing()
              + " terminating=" + e.getConditions().getTerminating())
          .containsExactly("198.18.1.2 ready=true serving=true terminating=false",
              "198.18.1.3 ready=false serving=false terminating=false",
              "198.18.1.4 ready=false serving=true terminating=true");
    });
  }

  @Test
  void namedTargetPortsResolvePerPodIntoOneSlicePerMapping() {
    List<EndpointSlice> slices = SliceDesign.desired(service("http"), List.of(
        pod("web-a", "198.18.1.2", true, "web", "http", 8080),
        pod("web-b", "198.18.1.3", true, "web", "http", 9090)));

    assertThat(slices).extracting(s -> s.getMetadata().getName() + " " + s.getPorts().get(0).getPort()
        + " " + s.getEndpoints().get(0).getAddresses().get(0))
        .containsExactly("web-lab 8080 198.18.1.2", "web-lab-2 9090 198.18.1.3");
  }

  @Test
  void aServiceWithoutPodsGetsAnEmptySliceAndOneWithoutSelectorNone() {
    assertThat(SliceDesign.desired(service(8080), List.of())).singleElement()
        .satisfies(s -> assertThat(s.getEndpoints()).isEmpty());
    Service manual = new ServiceBuilder(service(8080)).editSpec().withSelector(null).endSpec().build();
    assertThat(SliceDesign.desired(manual, List.of())).isEmpty();
  }

  private static Deployment deployment(int replicas, String image) {
    return new DeploymentBuilder().withNewMetadata().withNamespace("shop").withName("web")
        .withUid("dep-uid").endMetadata().withNewSpec().withReplicas(replicas)
        .withNewSelector().withMatchLabels(Map.of("app", "web")).endSelector()
        .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "web")).endMetadata()
        .withNewSpec().addNewContainer().withName("web").withImage(image).endContainer().endSpec()
        .endTemplate().endSpec().build();
  }

  private static ReplicaSet created(ReplicaSet rs) {
    return new ReplicaSetBuilder(rs).editMetadata().withUid("rs-uid-" + rs.getMetadata().getName())
        .endMetadata().build();
  }

  @Test
  void deploymentBecomesAReplicaSetThenItsPods() {
    Deque<String> suffixes = new ArrayDeque<>(List.of("b2c4d", "x9z7q", "k5m6n"));
    Deployment d = deployment(2, "echo:1");

    DeploymentExpander.Plan first = DeploymentExpander.plan(d, List.of(), List.of(), suffixes::pop);

    ReplicaSet rs = first.replicaSet();
    String hash = DeploymentExpander.templateHash(d.getSpec().getTemplate());
    assertThat(hash).matches("[" + DeploymentExpander.ALPHABET + "]+");
    assertThat(rs.getMetadata().getName()).isEqualTo("web-" + hash);
    assertThat(rs.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getKind() + "/" + o.getName()).isEqualTo("Deployment/web"));
    assertThat(rs.getSpec().getSelector().getMatchLabels())
        .containsEntry("app", "web").containsEntry("pod-template-hash", hash);
    assertThat(first.createPods()).isEmpty(); // once the ReplicaSet has its uid

    DeploymentExpander.Plan second = DeploymentExpander.plan(d, List.of(created(rs)), List.of(),
        suffixes::pop);

    assertThat(second.replicaSet()).isNull();
    assertThat(second.createPods()).extracting(p -> p.getMetadata().getName())
        .containsExactly("web-" + hash + "-b2c4d", "web-" + hash + "-x9z7q");
    assertThat(second.createPods()).allSatisfy(p -> {
      assertThat(p.getMetadata().getLabels()).containsEntry("app", "web")
          .containsEntry("pod-template-hash", hash);
      assertThat(p.getMetadata().getOwnerReferences().get(0).getKind()).isEqualTo("ReplicaSet");
      assertThat(p.getMetadata().getOwnerReferences().get(0).getUid())
          .isEqualTo("rs-uid-web-" + hash);
      assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo("echo:1");
    });
  }

  @Test
  void scalingDownDeletesSurplusAndANewTemplateReplacesTheOldReplicaSet() {
    Deployment d = deployment(3, "echo:1");
    ReplicaSet rs = created(DeploymentExpander.plan(d, List.of(), List.of(), () -> "zzzzz")
        .replicaSet());
    List<Pod> pods = new ArrayList<>(DeploymentExpander.plan(d, List.of(rs), List.of(),
        new ArrayDeque<>(List.of("aaaaa", "bbbbb", "ccccc"))::pop).createPods());

    DeploymentExpander.Plan down = DeploymentExpander.plan(deployment(1, "echo:1"), List.of(rs),
        pods, () -> "ddddd");

    assertThat(down.replicaSet().getSpec().getReplicas()).isEqualTo(1);
    assertThat(down.deletePods()).containsExactly(rs.getMetadata().getName() + "-ccccc",
        rs.getMetadata().getName() + "-bbbbb");

    DeploymentExpander.Plan rollout = DeploymentExpander.plan(deployment(3, "echo:2"),
        List.of(rs), pods, () -> "eeeee");

    assertThat(rollout.replicaSet().getMetadata().getName()).isNotEqualTo(rs.getMetadata().getName());
    assertThat(rollout.deleteReplicaSets()).containsExactly(rs.getMetadata().getName());
    assertThat(rollout.deletePods()).hasSize(3);
  }
}
