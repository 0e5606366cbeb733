package org.anetd.agent.service;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;

/**
 * The IPv4 EndpointSlices of a snapshot, parsed once and grouped by the Service they belong to
 * (label {@value #SERVICE_NAME_LABEL} in the Service's namespace). A Service port finds its
 * endpoints through the slice port with the same name and protocol; the port number comes from
 * each slice, which is how a named targetPort resolves to different numbers in different slices.
 */
final class EndpointIndex {
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  /** A Service by namespace and name. */
  record ServiceKey(String namespace, String name) {}

  /**
   * One endpoint as seen through one Service port: the backend it would be and its conditions
   * with the API's defaults applied (ready: null = true; serving: null = ready; terminating: null
   * = false). {@code local} means it runs on this agent's node.
   */
  record Endpoint(
      BackendAddress backend, boolean ready, boolean serving, boolean terminating,
      boolean local) {

    /** How much a duplicate listing is worth keeping over another: ready, then serving. */
    int rank() {
      return ready ? 2 : serving ? 1 : 0;
    }
  }

  private record SlicePort(String name, int port, Protocol protocol) {}

  private record SliceEndpoint(
      Ipv4 address, boolean local, boolean ready, boolean serving, boolean terminating) {}

  private record ParsedSlice(List<SlicePort> ports, List<SliceEndpoint> endpoints) {}

  private final Map<ServiceKey, List<ParsedSlice>> slicesByService;

  private EndpointIndex(Map<ServiceKey, List<ParsedSlice>> slicesByService) {
    this.slicesByService = slicesByService;
  }

  /**
   * Parses every slice (in namespace/name order, so problems come out in a fixed order). Slices of
   * other address types and slices without a service-name label are not ours and are skipped
   * silently; malformed ports and addresses are reported and skipped.
   */
  static EndpointIndex of(List<EndpointSlice> slices, String nodeName, List<Problem> problems) {
    List<EndpointSlice> sorted = new ArrayList<>(slices);
    sorted.sort(
        Comparator.comparing((EndpointSlice s) -> Objects.toString(s.getMetadata().getNamespace(), ""))
            .thenComparing(s -> Objects.toString(s.getMetadata().getName(), "")));
    Map<ServiceKey, List<ParsedSlice>> byService = new HashMap<>();
    for (EndpointSlice slice : sorted) {
      serviceOf(slice).ifPresent(
          key -> byService.computeIfAbsent(key, k -> new ArrayList<>())
              .add(parse(slice, nodeName, problems)));
    }
    return new EndpointIndex(byService);
  }

  /**
   * The endpoints behind one Service port, merged over all its slices and sorted by backend.
   * An endpoint listed twice (it moves between slices during updates) is kept once, preferring
   * the listing that is ready, then serving.
   */
  List<Endpoint> endpoints(ServiceKey service, String portName, Protocol protocol) {
    Map<BackendAddress, Endpoint> merged = new TreeMap<>();
    for (ParsedSlice slice : slicesByService.getOrDefault(service, List.of())) {
      Optional<SlicePort> port = portOf(slice, portName, protocol);
      if (port.isEmpty()) {
        continue;
      }
      for (SliceEndpoint e : slice.endpoints()) {
        BackendAddress backend = new BackendAddress(e.address(), port.get().port(), protocol);
        Endpoint endpoint = new Endpoint(backend, e.ready(), e.serving(), e.terminating(), e.local());
        merged.merge(backend, endpoint, (a, b) -> b.rank() > a.rank() ? b : a);
      }
    }
    return List.copyOf(merged.values());
  }

  /** Whether any slice of the Service carries a port with this name and protocol. */
  boolean resolvesPort(ServiceKey service, String portName, Protocol protocol) {
    return slicesByService.getOrDefault(service, List.of()).stream()
        .anyMatch(s -> portOf(s, portName, protocol).isPresent());
  }

  /** Whether any slice of the Service lists at least one endpoint. */
  boolean hasEndpoints(ServiceKey service) {
    return slicesByService.getOrDefault(service, List.of()).stream()
        .anyMatch(s -> !s.endpoints().isEmpty());
  }

  private static Optional<SlicePort> portOf(ParsedSlice slice, String name, Protocol protocol) {
    return slice.ports().stream()
        .filter(p -> p.name().equals(name) && p.protocol() == protocol)
        .findFirst();
  }

  static Optional<ServiceKey> serviceOf(EndpointSlice slice) {
    Map<String, String> labels = slice.getMetadata().getLabels();
    String service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
    if (service == null || service.isEmpty() || !"IPv4".equals(slice.getAddressType())) {
      return Optional.empty();
    }
    return Optional.of(
        new ServiceKey(Objects.toString(slice.getMetadata().getNamespace(), ""), service));
  }

  private static ParsedSlice parse(EndpointSlice slice, String nodeName, List<Problem> problems) {
    List<SlicePort> ports = new ArrayList<>();
    for (EndpointPort port : nullToEmpty(slice.getPorts())) {
      slicePort(slice, port, problems).ifPresent(ports::add);
    }
    List<SliceEndpoint> endpoints = new ArrayList<>();
    for (var endpoint : nullToEmpty(slice.getEndpoints())) {
      List<String> addresses = nullToEmpty(endpoint.getAddresses());
      if (addresses.isEmpty()) {
        continue;
      }
      // The API says consumers use the first address; the others are the same endpoint.
      String address = addresses.get(0);
      Optional<Problem> invalid =
          ServiceChecks.checkIpv4(ServiceChecks.refOf(slice), address, "endpoint address");
      if (invalid.isPresent()) {
        problems.add(invalid.get());
        continue;
      }
      EndpointConditions c = endpoint.getConditions();
      boolean ready = c == null || c.getReady() == null || c.getReady();
      boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
      boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
      boolean local = nodeName != null && nodeName.equals(endpoint.getNodeName());
      endpoints.add(new SliceEndpoint(Ipv4.parse(address), local, ready, serving, terminating));
    }
    return new ParsedSlice(List.copyOf(ports), List.copyOf(endpoints));
  }

  /**
   * A slice port we can load-balance to. A null port means "all ports" and carries no number to
   * translate to, and SCTP is not load-balanced; neither is an error in the slice. A number out
   * of range is.
   */
  private static Optional<SlicePort> slicePort(
      EndpointSlice slice, EndpointPort port, List<Problem> problems) {
    if (port.getPort() == null) {
      return Optional.empty();
    }
    if (port.getPort() < 1 || port.getPort() > 65535) {
      problems.add(new Problem(ServiceChecks.refOf(slice), Reason.InvalidPort,
          "port " + port.getPort() + " of slice port \"" + Objects.toString(port.getName(), "")
              + "\" is outside 1-65535"));
      return Optional.empty();
    }
    Protocol protocol;
    try {
      protocol = Protocol.ofKubernetes(port.getProtocol());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (protocol != Protocol.TCP && protocol != Protocol.UDP) {
      return Optional.empty();
    }
    return Optional.of(
        new SlicePort(Objects.toString(port.getName(), ""), port.getPort(), protocol));
  }

  static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
