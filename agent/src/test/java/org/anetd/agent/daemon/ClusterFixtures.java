package org.anetd.agent.daemon;

import io.fabric8.kubernetes.api.model.IntOrString;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.anetd.agent.k8s.ClusterState;

/** Small builders of API objects for agent-level tests. */
public final class ClusterFixtures {
  public static final String NODE = "node-1";
  public static final String NODE_IP = "198.18.255.1";

  private ClusterFixtures() {}

  public static Node node() {
    return new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
        .withNewSpec().withPodCIDR("198.18.0.0/24").endSpec()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress(NODE_IP).endAddress()
        .endStatus().build();
  }

  public static Namespace namespace(String name) {
    return new NamespaceBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of("kubernetes.io/metadata.name", name)).endMetadata().build();
  }

  public static Pod pod(String ns, String name, String ip, Map<String, String> labels) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid(ns + "-" + name)
        .withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(NODE).addNewContainer().withName("c").addNewPort()
        .withName("http").withContainerPort(8080).endPort().endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP()
        .endStatus().build();
  }

  public static Service clusterIp(String ns, String name, String ip, int port, int targetPort) {
    return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP(ip).withClusterIPs(ip)
        .addNewPort().withPort(port).withProtocol("TCP").withTargetPort(new IntOrString(targetPort))
        .endPort().endSpec().build();
  }

  public static EndpointSlice slice(String ns, String service, int port, String... ips) {
    EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withNamespace(ns)
        .withName(service + "-abc").withLabels(Map.of("kubernetes.io/service-name", service))
        .endMetadata().withAddressType("IPv4")
        .addNewPort().withPort(port).withProtocol("TCP").endPort();
    Arrays.stream(ips).forEach(ip -> b.addNewEndpoint().withAddresses(ip).withNodeName(NODE)
        .withNewConditions().withReady(true).withServing(true).withTerminating(false)
        .endConditions().endEndpoint());
    return b.build();
  }

  /** Denies all ingress to the pods of {@code ns} labelled app={@code app}. */
  public static NetworkPolicy denyIngress(String ns, String app) {
    return new NetworkPolicyBuilder().withNewMetadata().withNamespace(ns).withName("deny-" + app)
        .endMetadata().withNewSpec().withNewPodSelector().withMatchLabels(Map.of("app", app))
        .endPodSelector().withPolicyTypes("Ingress").endSpec().build();
  }

  public static ClusterState state(long version, List<Service> services, List<EndpointSlice> slices,
      List<Pod> pods, List<NetworkPolicy> policies) {
    return new ClusterState(version, NODE, services, slices, pods,
        List.of(namespace("default")), policies, List.of(node()));
  }
}
