package org.anetd.agent.service;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;

/**
 * Small builders for the fabric8 objects the compiler reads, and decoders that read compiled map
 * contents back as "ip:port" text, so each test case stays a few lines and never names an id it
 * did not get from the compiler.
 */
final class ServiceFixtures {
  static final String NS = "default";
  static final String THIS_NODE = "node-a";
  static final String OTHER_NODE = "node-b";

  private ServiceFixtures() {}

  // ---- Services ----

  static Service clusterIp(String name, String clusterIp, ServicePort... ports) {
    return service(name, "ClusterIP", clusterIp, ports);
  }

  static Service nodePort(String name, String clusterIp, ServicePort... ports) {
    return service(name, "NodePort", clusterIp, ports);
  }

  static Service loadBalancer(
      String name, String clusterIp, List<String> ingressIps, ServicePort... ports) {
    return new ServiceBuilder(service(name, "LoadBalancer", clusterIp, ports))
        .withNewStatus().withNewLoadBalancer()
        .withIngress(ingressIps.stream()
            .map(ip -> new io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder()
                .withIp(ip).build())
            .toList())
        .endLoadBalancer().endStatus()
        .build();
  }

  static Service service(String name, String type, String clusterIp, ServicePort... ports) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(NS).withName(name).endMetadata()
        .withNewSpec()
        .withType(type)
        .withClusterIP(clusterIp)
        .withClusterIPs(clusterIp == null ? List.of() : List.of(clusterIp))
        .withPorts(ports)
        .endSpec()
        .build();
  }

  /** An unnamed TCP port with a numeric targetPort. */
  static ServicePort tcp(int port, int targetPort) {
    return port(null, port, "TCP", new IntOrString(targetPort));
  }

  static ServicePort port(String name, int port, String protocol, int targetPort) {
    return port(name, port, protocol, new IntOrString(targetPort));
  }

  /** A port whose targetPort is a container port name, resolved per EndpointSlice. */
  static ServicePort namedTarget(String name, int port, String protocol, String targetPortName) {
    return port(name, port, protocol, new IntOrString(targetPortName));
  }

  static ServicePort port(String name, int port, String protocol, IntOrString targetPort) {
    return new ServicePortBuilder()
        .withName(name).withPort(port).withProtocol(protocol).withTargetPort(targetPort)
        .build();
  }

  static ServicePort withNodePort(ServicePort port, int nodePort) {
    return new ServicePortBuilder(port).withNodePort(nodePort).build();
  }

  // ---- EndpointSlices ----

  static EndpointSlice slice(
      String service, String sliceName, List<EndpointPort> ports, Endpoint... endpoints) {
    return slice(NS, service, sliceName, ports, endpoints);
  }

  static EndpointSlice slice(String namespace, String service, String sliceName,
      List<EndpointPort> ports, Endpoint... endpoints) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(sliceName)
        .withLabels(Map.of(EndpointIndex.SERVICE_NAME_LABEL, service)).endMetadata()
        .withAddressType("IPv4")
        .withPorts(ports)
        .withEndpoints(endpoints)
        .build();
  }

  static EndpointPort slicePort(String name, int port, String protocol) {
    return new EndpointPortBuilder().withName(name).withPort(port).withProtocol(protocol).build();
  }

  /** The port of an unnamed single-port Service. */
  static List<EndpointPort> unnamedTcp(int port) {
    return List.of(slicePort(null, port, "TCP"));
  }

  static Endpoint ready(String ip, String node) {
    return endpoint(ip, node, true, true, false);
  }

  static Endpoint endpoint(
      String ip, String node, Boolean ready, Boolean serving, Boolean terminating) {
    return new EndpointBuilder()
        .withAddresses(ip)
        .withNodeName(node)
        .withNewConditions().withReady(ready).withServing(serving).withTerminating(terminating)
        .endConditions()
        .build();
  }

  // ---- Nodes and state ----

  static Node node(String name, NodeAddress... addresses) {
    return new NodeBuilder()
        .withNewMetadata().withName(name).endMetadata()
        .withNewStatus().withAddresses(addresses).endStatus()
        .build();
  }

  static NodeAddress address(String type, String ip) {
    return new io.fabric8.kubernetes.api.model.NodeAddressBuilder().withType(type).withAddress(ip)
        .build();
  }

  static ClusterState state(List<Service> services, List<EndpointSlice> slices, Node... nodes) {
    return new ClusterState(1, THIS_NODE, services, slices, List.of(), List.of(), List.of(),
        Arrays.asList(nodes));
  }

  static DesiredServices compile(ClusterState state) {
    return ServiceCompiler.compile(state, ServiceCompilerConfig.defaults(), ServiceIds.empty());
  }

  // ---- Reading compiled maps back ----

  /** Every master entry as "ip:port/PROTO" plus " internal" for the internal scope. */
  static Set<String> frontends(DesiredServices d) {
    Set<String> out = new TreeSet<>();
    d.services().keySet().stream()
        .filter(k -> k.slot() == 0)
        .forEach(k -> out.add(describe(k)));
    return out;
  }

  static String describe(Lb4Key k) {
    return k.address() + ":" + k.port() + "/" + k.protocol()
        + (k.scope() == Lb4Key.SCOPE_INTERNAL ? " internal" : "");
  }

  static Lb4Key key(String ip, int port, Protocol protocol, int scope) {
    return new Lb4Key(Ipv4.parse(ip), port, protocol, scope, 0);
  }

  static Lb4Key key(String ip, int port) {
    return key(ip, port, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL);
  }

  static Lb4Service master(DesiredServices d, Lb4Key key) {
    Lb4Service master = d.services().get(key.master());
    if (master == null) {
      throw new AssertionError("no master entry for " + describe(key) + "; have " + frontends(d));
    }
    return master;
  }

  /**
   * The backends in the slots of a frontend as "ip:port", checking on the way that slots
   * 1..count exist, nothing beyond, and that every slot carries the master's rev-NAT id and
   * resolves to an lb4_backends entry.
   */
  static List<String> slotBackends(DesiredServices d, Lb4Key key) {
    Lb4Service master = master(d, key);
    List<String> out = new ArrayList<>();
    for (int slot = 1; slot <= master.count(); slot++) {
      Lb4Service value = d.services().get(key.withSlot(slot));
      if (value == null) {
        throw new AssertionError("slot " + slot + " of " + describe(key) + " is missing");
      }
      if (value.revNatId() != master.revNatId()) {
        throw new AssertionError("slot " + slot + " of " + describe(key) + " has rev-NAT id "
            + value.revNatId() + ", master has " + master.revNatId());
      }
      Lb4Backend backend = d.backends().get(value.backendId());
      if (backend == null) {
        throw new AssertionError("slot " + slot + " of " + describe(key)
            + " points at missing backend " + value.backendId());
      }
      out.add(backend.address() + ":" + backend.port());
    }
    if (d.services().containsKey(key.withSlot(master.count() + 1))) {
      throw new AssertionError(describe(key) + " has a slot beyond its count " + master.count());
    }
    return out;
  }

  /** The lb4_backends entry for "ip:port" (TCP), if any. */
  static Optional<Lb4Backend> backend(DesiredServices d, String ip, int port) {
    return d.backends().values().stream()
        .filter(b -> b.address().equals(Ipv4.parse(ip)) && b.port() == port
            && b.protocol() == Protocol.TCP)
        .findFirst();
  }

  static boolean hasFlag(Lb4Service value, int flag) {
    return (value.flags() & flag) != 0;
  }
}
