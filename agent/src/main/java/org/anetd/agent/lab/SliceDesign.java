package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The EndpointSlices a Service should have, from its selector and the pods (pure), as the
 * endpointslice controller makes them: one slice per distinct resolution of the service's target
 * ports (named ports can differ per pod), endpoints for pods that have an IP, ready when the pod
 * is Ready and not terminating, terminating (and serving while Ready) once deletion began.
 */
public final class SliceDesign {
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  public static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "anetd-lab";

  private SliceDesign() {}

  /** The desired slices of {@code service}, by name; empty for services without a selector. */
  public static List<EndpointSlice> desired(Service service, List<Pod> pods) {
    Map<String, String> selector = service.getSpec() == null ? null : service.getSpec().getSelector();
    if (selector == null || selector.isEmpty()
        || "ExternalName".equals(service.getSpec().getType())) {
      return List.of();
    }
    String ns = service.getMetadata().getNamespace();
    Map<List<EndpointPort>, List<Endpoint>> groups = new LinkedHashMap<>();
    pods.stream()
        .filter(p -> ns.equals(p.getMetadata().getNamespace()))
        .filter(p -> matches(selector, p.getMetadata().getLabels()))
        .filter(p -> podIp(p).isPresent() && !finished(p))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .forEach(p -> groups.computeIfAbsent(ports(service, p), k -> new ArrayList<>())
            .add(endpoint(p)));
    if (groups.isEmpty()) {
      groups.put(ports(service, null), List.of()); // an empty slice says "no endpoints"
    }
    List<EndpointSlice> out = new ArrayList<>();
    int i = 0;
    for (Map.Entry<List<EndpointPort>, List<Endpoint>> g : groups.entrySet()) {
      String name = service.getMetadata().getName() + "-lab" + (i++ == 0 ? "" : "-" + i);
      out.add(new EndpointSliceBuilder().withNewMetadata().withNamespace(ns).withName(name)
          .withLabels(Map.of(SERVICE_NAME_LABEL, service.getMetadata().getName(),
              MANAGED_BY_LABEL, MANAGED_BY))
          .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Service")
              .withName(service.getMetadata().getName()).withUid(service.getMetadata().getUid())
              .withController(true).withBlockOwnerDeletion(true).build())
          .endMetadata().withAddressType("IPv4").withPorts(g.getKey()).withEndpoints(g.getValue())
          .build());
    }
    return out;
  }

  /** Whether two slices say the same (ports, endpoints, labels), ignoring server metadata. */
  public static boolean sameContent(EndpointSlice a, EndpointSlice b) {
    return a.getPorts().equals(b.getPorts()) && a.getEndpoints().equals(b.getEndpoints())
        && a.getMetadata().getLabels().equals(b.getMetadata().getLabels());
  }

  static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    return labels != null && selector.entrySet().stream()
        .allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  static Optional<String> podIp(Pod p) {
    return p.getStatus() == null || p.getStatus().getPodIP() == null
        || p.getStatus().getPodIP().isEmpty() ? Optional.empty()
        : Optional.of(p.getStatus().getPodIP());
  }

  static boolean finished(Pod p) {
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  static boolean ready(Pod p) {
    List<PodCondition> conditions = p.getStatus() == null ? null : p.getStatus().getConditions();
    return conditions != null && conditions.stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static Endpoint endpoint(Pod p) {
    boolean terminating = p.getMetadata().getDeletionTimestamp() != null;
    boolean ready = ready(p);
    return new EndpointBuilder().withAddresses(podIp(p).orElseThrow())
        .withNodeName(p.getSpec() == null ? null : p.getSpec().getNodeName())
        .withNewTargetRef().withKind("Pod").withNamespace(p.getMetadata().getNamespace())
        .withName(p.getMetadata().getName()).withUid(p.getMetadata().getUid()).endTargetRef()
        .withNewConditions().withReady(ready && !terminating).withServing(ready)
        .withTerminating(terminating).endConditions().build();
  }

  /** The service's ports as {@code pod} serves them; a named port the pod lacks is left out. */
  private static List<EndpointPort> ports(Service service, Pod pod) {
    List<EndpointPort> out = new ArrayList<>();
    for (ServicePort sp : service.getSpec().getPorts() == null ? List.<ServicePort>of()
        : service.getSpec().getPorts()) {
      String protocol = sp.getProtocol() == null ? "TCP" : sp.getProtocol();
      Optional<Integer> port = targetPort(sp, protocol, pod);
      if (pod != null && port.isEmpty()) {
        continue;
      }
      out.add(new EndpointPortBuilder().withName(sp.getName() == null ? "" : sp.getName())
          .withProtocol(protocol).withPort(port.orElse(null)).build());
    }
    return out;
  }

  private static Optional<Integer> targetPort(ServicePort sp, String protocol, Pod pod) {
    IntOrString target = sp.getTargetPort();
    if (target == null || target.getIntVal() == null && target.getStrVal() == null) {
      return Optional.ofNullable(sp.getPort());
    }
    if (target.getIntVal() != null) {
      return Optional.of(target.getIntVal());
    }
    if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return Optional.empty();
    }
    for (Container c : pod.getSpec().getContainers()) {
      for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
        String cpProtocol = cp.getProtocol() == null ? "TCP" : cp.getProtocol();
        if (target.getStrVal().equals(cp.getName()) && protocol.equals(cpProtocol)) {
          return Optional.of(cp.getContainerPort());
        }
      }
    }
    return Optional.empty();
  }
}
