package org.anetd.agent.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerImageBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.Ipv4;
import org.junit.jupiter.api.Test;

class CompactObjectsTest {

  private static Pod richPod() {
    return new PodBuilder()
        .withNewMetadata().withNamespace("shop").withName("web-1").withUid("u-1")
        .withResourceVersion("7").withLabels(Map.of("app", "web"))
        .withAnnotations(Map.of(CompactObjects.LAST_APPLIED, "{\"huge\":true}", "team", "a"))
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").build())
        .addNewOwnerReference().withKind("ReplicaSet").withName("web-abc").endOwnerReference()
        .endMetadata()
        .withNewSpec().withNodeName("node-a").withHostNetwork(false)
        .addNewContainer().withName("app").withImage("registry/app:1").addNewEnv()
        .withName("A").withValue("b").endEnv()
        .addNewPort().withName("http").withContainerPort(8080).withProtocol("TCP").endPort()
        .endContainer()
        .addNewVolume().withName("data").withNewEmptyDir().endEmptyDir().endVolume()
        .endSpec()
        .withNewStatus().withPhase("Running").withPodIP("10.0.0.5").addNewPodIP()
        .withIp("10.0.0.5").endPodIP().withHostIP("192.168.0.1")
        .addNewCondition().withType("Ready").withStatus("True").endCondition()
        .addNewContainerStatus().withName("app").withImage("registry/app:1").endContainerStatus()
        .endStatus()
        .build();
  }

  @Test
  void aPodKeepsWhatPolicyAndEndpointsReadAndNothingElse() {
    Pod pod = CompactObjects.compact(richPod());

    assertThat(pod.getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(pod.getMetadata().getUid()).isEqualTo("u-1");
    assertThat(pod.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(pod.getMetadata().getOwnerReferences()).hasSize(1);
    assertThat(pod.getMetadata().getAnnotations()).containsOnlyKeys("team");
    assertThat(pod.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(pod.getSpec().getNodeName()).isEqualTo("node-a");
    assertThat(pod.getSpec().getContainers()).singleElement().satisfies(c -> {
      assertThat(c.getPorts()).singleElement().satisfies(p -> {
        assertThat(p.getName()).isEqualTo("http");
        assertThat(p.getContainerPort()).isEqualTo(8080);
      });
      assertThat(c.getImage()).isNull();
      assertThat(c.getEnv()).isNullOrEmpty();
    });
    assertThat(pod.getSpec().getVolumes()).isNullOrEmpty();
    assertThat(Pods.ipv4s(pod)).containsExactly(Ipv4.parse("10.0.0.5"));
    assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
    assertThat(pod.getStatus().getConditions()).isNullOrEmpty();
    assertThat(pod.getStatus().getContainerStatuses()).isNullOrEmpty();
  }

  @Test
  void anEndpointSliceKeepsAddressesConditionsAndNodesButNotTargetRefs() {
    EndpointSlice slice = CompactObjects.compact(new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web-x")
        .withLabels(Map.of("kubernetes.io/service-name", "web")).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
        .addNewEndpoint().withAddresses("10.0.0.5").withNodeName(new String("node-a"))
        .withNewConditions().withReady(true).endConditions()
        .withNewTargetRef().withKind("Pod").withName("web-1").withNamespace("shop").endTargetRef()
        .withZone("z1").withNewHints().addNewForZone("z1").endHints().endEndpoint()
        .build());

    var endpoint = slice.getEndpoints().get(0);
    assertThat(endpoint.getAddresses()).containsExactly("10.0.0.5");
    assertThat(endpoint.getConditions().getReady()).isTrue();
    assertThat(endpoint.getNodeName()).isSameAs("node-a");
    assertThat(endpoint.getTargetRef()).isNull();
    assertThat(endpoint.getHints()).isNull();
    assertThat(endpoint.getZone()).isNull();
    assertThat(slice.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getPort()).isEqualTo(8080);
    });
  }

  @Test
  void equalEndpointConditionsAreOneSharedObject() {
    EndpointSlice a = CompactObjects.compact(new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName("a").endMetadata()
        .addNewEndpoint().withAddresses("10.0.0.5").withNewConditions().withReady(true)
        .withServing(true).withTerminating(false).endConditions().endEndpoint()
        .addNewEndpoint().withAddresses("10.0.0.6").withNewConditions().withReady(false)
        .withServing(true).withTerminating(true).endConditions().endEndpoint()
        .build());
    EndpointSlice b = CompactObjects.compact(new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName("b").endMetadata()
        .addNewEndpoint().withAddresses("10.0.0.7").withNewConditions().withReady(true)
        .withServing(true).withTerminating(false).endConditions().endEndpoint()
        .build());

    assertThat(b.getEndpoints().get(0).getConditions())
        .isSameAs(a.getEndpoints().get(0).getConditions());
    assertThat(a.getEndpoints().get(1).getConditions().getReady()).isFalse();
    assertThat(a.getEndpoints().get(1).getConditions().getTerminating()).isTrue();
  }

  @Test
  void aNodeKeepsItsSpecAndAddressesButNotItsImages() {
    Node node = CompactObjects.compact(new NodeBuilder()
        .withNewMetadata().withName("node-a").endMetadata()
        .withNewSpec().withPodCIDR("10.0.0.0/24").endSpec()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.168.0.1")
        .endAddress().withImages(List.of(new ContainerImageBuilder()
            .withNames("registry/a:1").withSizeBytes(1L).build()))
        .endStatus()
        .build());

    assertThat(node.getSpec().getPodCIDR()).isEqualTo("10.0.0.0/24");
    assertThat(node.getStatus().getAddresses()).singleElement()
        .satisfies(a -> assertThat(a.getAddress()).isEqualTo("192.168.0.1"));
    assertThat(node.getStatus().getImages()).isNullOrEmpty();
  }

  @Test
  void aServiceKeepsItsLoadBalancerIngressWithItsIpMode() {
    Service svc = CompactObjects.compact(new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web").endMetadata()
        .withNewSpec().withType("LoadBalancer").endSpec()
        .withNewStatus().withNewLoadBalancer()
        .addNewIngress().withIp("203.0.113.7").withIpMode("Proxy").endIngress()
        .endLoadBalancer().endStatus()
        .build());

    assertThat(svc.getStatus().getLoadBalancer().getIngress()).singleElement().satisfies(i -> {
      assertThat(i.getIp()).isEqualTo("203.0.113.7");
      assertThat(i.getIpMode()).as("ServiceCompiler skips Proxy ingress IPs").isEqualTo("Proxy");
    });
  }
}
