package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.util.List;

/** Minimal valid objects of the watched kinds, for mock tests. */
final class K8sObjects {
  private K8sObjects() {}

  static Namespace namespace(String name) {
    return new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  static Node node(String name) {
    return new NodeBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  static Pod pod(String namespace, String name, String nodeName) {
    return new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withNodeName(nodeName)
        .addNewContainer().withName("app").withImage("registry.k8s.io/pause:3.10").endContainer()
        .endSpec()
        .build();
  }

  static Service service(String namespace, String name) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().addToSelector("app", name).addNewPort().withPort(80).endPort().endSpec()
        .build();
  }

  static EndpointSlice endpointSlice(String namespace, String name) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .addToLabels("kubernetes.io/service-name", name).endMetadata()
        .withAddressType("IPv4")
        .addNewEndpoint().withAddresses("10.0.0.7").endEndpoint()
        .addNewPort().withPort(8080).withProtocol("TCP").endPort()
        .build();
  }

  static NetworkPolicy networkPolicy(String namespace, String name) {
    return new NetworkPolicyBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withNewPodSelector().endPodSelector().withPolicyTypes("Ingress").endSpec()
        .build();
  }

  static List<String> names(List<? extends HasMetadata> objects) {
    return objects.stream().map(o -> o.getMetadata().getName()).toList();
  }

  static List<String> namespacedNames(List<? extends HasMetadata> objects) {
    return objects.stream()
        .map(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName())
        .toList();
  }
}
