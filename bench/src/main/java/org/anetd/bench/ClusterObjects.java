package org.anetd.bench;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.Ipv4;

/**
 * The Kubernetes objects of the control-plane benchmarks: Service i ("svc-i", ClusterIP vip(i),
 * port 80/TCP -> 8080) and its one EndpointSlice with ready endpoints at unique pod addresses
 * on the benchmark's node.
 */
final class ClusterObjects {
  static final String NODE = "bench-node";
  static final int PORT = 80;
  static final int TARGET_PORT = 8080;

  private ClusterObjects() {}

  /** 198.19.0.1 and up. */
  static Ipv4 vip(int service) {
    return new Ipv4(0xC6130000 + service + 1);
  }

  static Node node() {
    return new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.255.0.1")
        .endAddress().endStatus().build();
  }

  static Service service(int i) {
    return new ServiceBuilder().withNewMetadata().withNamespace("default")
        .withName("svc-" + i).endMetadata().withNewSpec().withType("ClusterIP")
        .withClusterIP(vip(i).toString()).withClusterIPs(vip(i).toString()).addNewPort()
        .withPort(PORT).withProtocol("TCP").withTargetPort(new IntOrString(TARGET_PORT))
        .endPort().endSpec().build();
  }

  /** Up to 16 endpoints per Service, at addresses no other Service uses. */
  static EndpointSlice slice(int service, int endpoints) {
    List<Endpoint> eps = new ArrayList<>();
    for (int e = 0; e < endpoints; e++) {
      int n = service * 16 + e;
      eps.add(new EndpointBuilder().withAddresses("10." + ((n >> 16) & 0xff) + "."
          + ((n >> 8) & 0xff) + "." + (n & 0xff)).withNodeName(NODE).withNewConditions()
          .withReady(true).withServing(true).withTerminating(false).endConditions().build());
    }
    return new EndpointSliceBuilder().withNewMetadata().withNamespace("default")
        .withName("svc-" + service + "-x").withLabels(Map.of("kubernetes.io/service-name",
            "svc-" + service)).endMetadata().withAddressType("IPv4").addNewPort()
        .withPort(TARGET_PORT).withProtocol("TCP").endPort().withEndpoints(eps).build();
  }
}
