package org.anetd.agent.service;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.service.EndpointIndex.Endpoint;
import org.anetd.agent.service.EndpointIndex.ServiceKey;

/**
 * Compiles Services and EndpointSlices into the exact desired contents of lb4_services,
 * lb4_backends and lb4_reverse_nat. A pure function of its arguments: no client, no I/O, no
 * clock.
 *
 * <p>The pass, in named steps:
 *
 * <ol>
 *   <li>{@link #nodeAddresses}: the IPv4 addresses of this node, where NodePorts listen;
 *   <li>{@link EndpointIndex#of}: every EndpointSlice parsed once, grouped by Service;
 *   <li>{@link #plan}: per Service, its frontend views with the backends of each, independent of
 *       all other Services;
 *   <li>{@link #admit}: Services in priority order (already programmed first, then by
 *       namespace/name) claim their frontends and map capacity; whatever does not fit is skipped
 *       whole;
 *   <li>{@link ServiceIds#allocate}: stable backend and rev-NAT ids for what was admitted;
 *   <li>{@link #render}: the map entries.
 * </ol>
 *
 * <p>Bad objects, ports and addresses are skipped and reported in {@link
 * DesiredServices#problems()}; everything else still compiles.
 */
public final class ServiceCompiler {
  public static final int DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
  /** lb4_service.count is a u16. */
  static final int MAX_SLOTS = 0xFFFF;

  private static final String LOCAL = "Local";
  /** status.loadBalancer.ingress[].ipMode of a load balancer that proxies (see loadBalancerIpsOf). */
  private static final String IP_MODE_PROXY = "Proxy";

  private ServiceCompiler() {}

  /**
   * One frontend view: a frontend address at one scope, with its flags and the backends placed in
   * its slots. {@code lingering} are backends listed as terminating for the same port that are in
   * no slot: they keep an lb4_backends entry so established connections still resolve.
   */
  record FrontendView(
      FrontendKind kind,
      FrontendAddress address,
      int scope,
      int flags,
      long affinityTimeoutSeconds,
      List<Endpoint> slots,
      List<Endpoint> lingering) {}

  /** What one Service wants programmed, before it competes with the others for capacity. */
  record ServicePlan(
      ObjectRef service,
      String createdAt,
      List<FrontendView> views,
      Optional<Integer> healthCheckNodePort,
      int localEndpoints) {

    ServicePlan withViews(List<FrontendView> kept) {
      return new ServicePlan(service, createdAt, kept, healthCheckNodePort, localEndpoints);
    }

    Set<FrontendAddress> frontendAddresses() {
      return views.stream().map(FrontendView::address).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every backend the Service needs an entry for; ACTIVE wins over TERMINATING. */
    SortedMap<BackendAddress, Integer> backendStates() {
      SortedMap<BackendAddress, Integer> states = new TreeMap<>();
      for (FrontendView view : views) {
        view.slots().forEach(
            e -> states.merge(e.backend(), stateOf(e), ServiceCompiler::mergeStates));
        view.lingering().forEach(e -> states.merge(
            e.backend(), Lb4Backend.STATE_TERMINATING, ServiceCompiler::mergeStates));
      }
      return states;
    }

    int serviceEntries() {
      return views.stream().mapToInt(v -> 1 + v.slots().size()).sum();
    }

    boolean wasProgrammed(Predicate<FrontendAddress> programmed) {
      return views.stream().anyMatch(v -> programmed.test(v.address()));
    }
  }

  public static DesiredServices compile(
      ClusterState state, ServiceCompilerConfig config, ServiceIds previousIds) {
    return compile(state, config, previousIds, Map.of()).desired();
  }

  /** A compile's maps, and the plan each admitted Service got (for the next compile). */
  public record Compiled(DesiredServices desired, Map<ObjectRef, ServicePlan> admitted) {}

  /**
   * The whole desired state of {@code state}; {@code lastAdmitted} says what the previous compile
   * admitted of each Service ({@link Compiled#admitted}, null when nothing), which a Service that
   * grows past the map limit keeps (see {@link #admit}).
   */
  public static Compiled compile(ClusterState state, ServiceCompilerConfig config,
      ServiceIds previousIds, Map<ObjectRef, ServicePlan> lastAdmitted) {
    List<Problem> problems = new ArrayList<>();
    List<Ipv4> nodeIps = nodeAddresses(state, problems);
    EndpointIndex endpoints = EndpointIndex.of(state.endpointSlices(), state.nodeName(), problems);
    List<ServicePlan> plans = new ArrayList<>();
    for (Service service : sortedByName(state.services())) {
      plan(service, nodeIps, endpoints, config, problems).ifPresent(plans::add);
    }
    List<ServicePlan> admitted = admit(plans, config, wasProgrammed(previousIds), lastAdmitted,
        problems);
    Set<BackendAddress> backends = new TreeSet<>();
    Set<FrontendAddress> frontends = new TreeSet<>();
    for (ServicePlan plan : admitted) {
      backends.addAll(plan.backendStates().keySet());
      frontends.addAll(plan.frontendAddresses());
    }
    ServiceIds ids = ServiceIds.allocate(previousIds, backends, frontends);
    Map<ObjectRef, ServicePlan> byService = new HashMap<>();
    admitted.forEach(plan -> byService.put(plan.service(), plan));
    return new Compiled(render(admitted, ids, problems), Map.copyOf(byService));
  }

  /** As below, without the problems (the compiler reports them). */
  public static List<Ipv4> nodeAddresses(ClusterState state) {
    return nodeAddresses(state, new ArrayList<>());
  }

  /**
   * The IPv4 InternalIP and ExternalIP addresses of this agent's node, sorted. IPv6 addresses are
   * skipped silently; a missing Node simply has no NodePort frontends.
   */
  static List<Ipv4> nodeAddresses(ClusterState state, List<Problem> problems) {
    SortedSet<Ipv4> addresses = new TreeSet<>();
    for (Node node : state.nodes()) {
      if (node.getMetadata() == null || !Objects.equals(node.getMetadata().getName(),
          state.nodeName()) || node.getStatus() == null) {
        continue;
      }
      for (NodeAddress address : EndpointIndex.nullToEmpty(node.getStatus().getAddresses())) {
        if (!"InternalIP".equals(address.getType()) && !"ExternalIP".equals(address.getType())) {
          continue;
        }
        parseIpv4(ServiceChecks.refOf(node), address.getAddress(),
            "status.addresses " + address.getType(), problems).ifPresent(addresses::add);
      }
    }
    return List.copyOf(addresses);
  }

  /**
   * One Service's frontend views. Empty for Services that program nothing by design (headless,
   * ExternalName) and for invalid ones (reported).
   */
  static Optional<ServicePlan> plan(Service service, List<Ipv4> nodeIps,
      EndpointIndex endpoints, ServiceCompilerConfig config, List<Problem> problems) {
    Optional<Problem> invalid = ServiceChecks.checkObject(service);
    if (invalid.isPresent()) {
      problems.add(invalid.get());
      return Optional.empty();
    }
    ObjectRef ref = ServiceChecks.refOf(service);
    ServiceSpec spec = service.getSpec();
    String type = Objects.requireNonNullElse(spec.getType(), "ClusterIP");
    Optional<Problem> badType = ServiceChecks.checkType(ref, type);
    if (badType.isPresent()) {
      problems.add(badType.get());
      return Optional.empty();
    }
    // Headless Services are resolved by DNS to pod IPs and ExternalName ones to a CNAME: there is
    // no virtual address to load-balance.
    if (type.equals("ExternalName") || "None".equals(spec.getClusterIP())) {
      return Optional.empty();
    }

    boolean affinity = "ClientIP".equals(spec.getSessionAffinity());
    long affinityTimeout = affinity ? affinityTimeoutSeconds(ref, service, problems) : 0;
    int baseFlags = affinity ? Lb4Service.F_AFFINITY : 0;
    boolean itpLocal = LOCAL.equals(spec.getInternalTrafficPolicy());
    boolean etpLocal = LOCAL.equals(spec.getExternalTrafficPolicy());
    boolean hasNodePorts = type.equals("NodePort") || type.equals("LoadBalancer");

    List<Ipv4> clusterIps = addresses(ref, clusterIpsOf(spec), "spec.clusterIPs", problems);
    List<Ipv4> ingressIps = type.equals("LoadBalancer")
        ? addresses(ref, loadBalancerIpsOf(service), "status.loadBalancer.ingress.ip", problems)
        : List.of();
    List<Ipv4> externalIps = addresses(ref, EndpointIndex.nullToEmpty(spec.getExternalIPs()),
        "spec.externalIPs", problems);

    ServiceKey key = new ServiceKey(ref.namespace(), ref.name());
    ViewCollector views = new ViewCollector(etpLocal, affinityTimeout);
    Set<Ipv4> localReadyPods = new TreeSet<>();
    for (ServicePort port : EndpointIndex.nullToEmpty(spec.getPorts())) {
      Optional<Problem> badPort = ServiceChecks.checkServicePort(ref, port);
      if (badPort.isPresent()) {
        problems.add(badPort.get());
        continue;
      }
      Protocol protocol = Protocol.ofKubernetes(port.getProtocol());
      String portName = Objects.toString(port.getName(), "");
      ServiceChecks.checkTargetPortName(ref, port,
          endpoints.resolvesPort(key, portName, protocol), endpoints.hasEndpoints(key))
          .ifPresent(problems::add);

      List<Endpoint> listed = endpoints.endpoints(key, portName, protocol);
      views.startPort(select(listed, e -> true), select(listed, Endpoint::local),
          listed.stream().filter(Endpoint::terminating).toList());
      listed.stream().filter(e -> e.local() && e.ready())
          .forEach(e -> localReadyPods.add(e.backend().address()));

      int servicePort = port.getPort();
      int clusterFlags = baseFlags | (itpLocal ? Lb4Service.F_ITP_LOCAL : 0);
      for (Ipv4 ip : clusterIps) {
        views.clusterIp(new FrontendAddress(ip, servicePort, protocol), clusterFlags, itpLocal);
      }
      if (hasNodePorts && port.getNodePort() != null && port.getNodePort() != 0) {
        Optional<Problem> badNodePort =
            ServiceChecks.checkNodePort(ref, port, config.nodePortRange());
        if (badNodePort.isPresent()) {
          problems.add(badNodePort.get());
        } else {
          for (Ipv4 ip : nodeIps) {
            views.external(FrontendKind.NODE_PORT,
                new FrontendAddress(ip, port.getNodePort(), protocol),
                baseFlags | Lb4Service.F_NODEPORT);
          }
        }
      }
      for (Ipv4 ip : ingressIps) {
        views.external(FrontendKind.LOAD_BALANCER, new FrontendAddress(ip, servicePort, protocol),
            baseFlags | Lb4Service.F_EXTERNAL);
      }
      for (Ipv4 ip : externalIps) {
        views.external(FrontendKind.EXTERNAL_IP, new FrontendAddress(ip, servicePort, protocol),
            baseFlags | Lb4Service.F_EXTERNAL);
      }
    }

    Optional<Integer> healthCheckNodePort = Optional.empty();
    Integer hcPort = spec.getHealthCheckNodePort();
    if (etpLocal && hcPort != null && hcPort != 0) {
      Optional<Problem> badHc = ServiceChecks.checkHealthCheckNodePort(ref, hcPort);
      badHc.ifPresent(problems::add);
      healthCheckNodePort = badHc.isPresent() ? Optional.empty() : Optional.of(hcPort);
    }
    return Optional.of(
        new ServicePlan(ref, createdAt(service), views.views(), healthCheckNodePort,
            localReadyPods.size()));
  }

  /**
   * Collects the views of one Service, port by port. A frontend address the Service already has
   * (an IP both in externalIPs and in the load balancer status, say) is kept once, first wins.
   */
  private static final class ViewCollector {
    private final boolean etpLocal;
    private final long affinityTimeout;
    private final Set<FrontendAddress> seen = new HashSet<>();
    private final List<FrontendView> views = new ArrayList<>();
    private List<Endpoint> all = List.of();
    private List<Endpoint> local = List.of();
    private List<Endpoint> terminating = List.of();

    ViewCollector(boolean etpLocal, long affinityTimeout) {
      this.etpLocal = etpLocal;
      this.affinityTimeout = affinityTimeout;
    }

    void startPort(List<Endpoint> all, List<Endpoint> local, List<Endpoint> terminating) {
      this.all = all;
      this.local = local;
      this.terminating = terminating;
    }

    /** ClusterIP traffic is internal: ETP does not apply, ITP Local narrows to local endpoints. */
    void clusterIp(FrontendAddress address, int flags, boolean itpLocal) {
      if (seen.add(address)) {
        views.add(view(FrontendKind.CLUSTER_IP, address, Lb4Key.SCOPE_EXTERNAL, flags,
            itpLocal ? local : all));
      }
    }

    /**
     * NodePort, LoadBalancer and externalIP frontends. With ETP Local, traffic from outside may
     * only reach local endpoints (the client IP is kept, so no second hop), while local pods
     * using the same address still get every endpoint: the datapath looks them up at the internal
     * scope.
     */
    void external(FrontendKind kind, FrontendAddress address, int flags) {
      if (!seen.add(address)) {
        return;
      }
      if (etpLocal) {
        views.add(view(kind, address, Lb4Key.SCOPE_EXTERNAL, flags | Lb4Service.F_ETP_LOCAL,
            local));
        views.add(view(kind, address, Lb4Key.SCOPE_INTERNAL, flags, all));
      } else {
        views.add(view(kind, address, Lb4Key.SCOPE_EXTERNAL, flags, all));
      }
    }

    private FrontendView view(
        FrontendKind kind, FrontendAddress address, int scope, int flags, List<Endpoint> slots) {
      List<Endpoint> lingering = terminating.stream().filter(e -> !slots.contains(e)).toList();
      return new FrontendView(kind, address, scope, flags,
          (flags & Lb4Service.F_AFFINITY) != 0 ? affinityTimeout : 0, slots, lingering);
    }

    List<FrontendView> views() {
      return List.copyOf(views);
    }
  }

  /**
   * The endpoints that take new connections: the ready ones; if there are none, those still
   * serving while terminating (better a draining pod than a refused connection); else none.
   */
  private static List<Endpoint> select(List<Endpoint> listed, Predicate<Endpoint> scope) {
    List<Endpoint> inScope = listed.stream().filter(scope).toList();
    List<Endpoint> ready = inScope.stream().filter(Endpoint::ready).toList();
    if (!ready.isEmpty()) {
      return ready;
    }
    return inScope.stream().filter(e -> e.serving() && e.terminating()).toList();
  }

  private static int stateOf(Endpoint endpoint) {
    return endpoint.ready() ? Lb4Backend.STATE_ACTIVE : Lb4Backend.STATE_TERMINATING;
  }

  private static long affinityTimeoutSeconds(
      ObjectRef ref, Service service, List<Problem> problems) {
    var config = service.getSpec().getSessionAffinityConfig();
    if (config == null || config.getClientIP() == null
        || config.getClientIP().getTimeoutSeconds() == null) {
      return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
    }
    int seconds = config.getClientIP().getTimeoutSeconds();
    Optional<Problem> bad = ServiceChecks.checkAffinityTimeout(ref, seconds);
    bad.ifPresent(problems::add);
    return bad.isPresent() ? DEFAULT_AFFINITY_TIMEOUT_SECONDS : seconds;
  }

  private static List<String> clusterIpsOf(ServiceSpec spec) {
    List<String> ips = EndpointIndex.nullToEmpty(spec.getClusterIPs());
    if (!ips.isEmpty()) {
      return ips;
    }
    String ip = spec.getClusterIP();
    return ip == null || ip.isEmpty() ? List.of() : List.of(ip);
  }

  /**
   * status.loadBalancer.ingress[].ip, but for ingress points with ipMode "Proxy": their load
   * balancer proxies the traffic (its own address, or PROXY protocol, reaches the node) and the
   * IP must not be short-cut on the node, so traffic to it from pods and nodes goes through the
   * load balancer, as kube-proxy does (1.30+). Unset or "VIP": programmed.
   */
  private static List<String> loadBalancerIpsOf(Service service) {
    if (service.getStatus() == null || service.getStatus().getLoadBalancer() == null) {
      return List.of();
    }
    return EndpointIndex.nullToEmpty(service.getStatus().getLoadBalancer().getIngress()).stream()
        .filter(ingress -> !IP_MODE_PROXY.equals(ingress.getIpMode()))
        .map(LoadBalancerIngress::getIp)
        .filter(Objects::nonNull) // hostname-only ingress: nothing to program here
        .toList();
  }

  /** The IPv4 addresses among {@code texts}, in order and without duplicates. */
  private static List<Ipv4> addresses(
      ObjectRef ref, List<String> texts, String field, List<Problem> problems) {
    Set<Ipv4> addresses = new LinkedHashSet<>();
    for (String text : texts) {
      parseIpv4(ref, text, field, problems).ifPresent(addresses::add);
    }
    return List.copyOf(addresses);
  }

  /** IPv6 is skipped silently (this datapath is IPv4); anything else unparseable is reported. */
  private static Optional<Ipv4> parseIpv4(
      ObjectRef ref, String text, String field, List<Problem> problems) {
    if (text == null || text.isEmpty() || text.contains(":")) {
      return Optional.empty();
    }
    Optional<Problem> invalid = ServiceChecks.checkIpv4(ref, text, field);
    invalid.ifPresent(problems::add);
    return invalid.isPresent() ? Optional.empty() : Optional.of(Ipv4.parse(text));
  }

  /** {@link #admit(List, ServiceCompilerConfig, Predicate, Map, List)} with no last pass. */
  static List<ServicePlan> admit(List<ServicePlan> plans, ServiceCompilerConfig config,
      Predicate<FrontendAddress> programmed, List<Problem> problems) {
    return admit(plans, config, programmed, Map.of(), problems);
  }

  /**
   * Lets Services claim frontends and map capacity, most deserving first: Services programmed
   * before (they hold conntrack state and users depend on them; a new Service must not push them
   * out or steal their address), then by namespace/name. A frontend address another Service
   * already claimed is dropped from the later one. A Service that does not fit is skipped whole,
   * never partly programmed, and the next ones still get their chance.
   *
   * <p>What the last pass admitted ({@code lastAdmitted}: a Service's admitted plan, or null) is
   * held first: a Service that grows past what is left (more backends, a new port) keeps what it
   * has, reported, instead of pushing out another running Service; its change is applied once
   * it fits. The backends of last pass count until the end of this one, as they stay in
   * lb4_backends until the write's last step: a change whose new backends would not fit next to
   * the old ones waits a pass (keeping the old ones still listed) instead of failing the write.
   */
  static List<ServicePlan> admit(List<ServicePlan> plans, ServiceCompilerConfig config,
      Predicate<FrontendAddress> programmed, Map<ObjectRef, ServicePlan> lastAdmitted,
      List<Problem> problems) {
    List<ServicePlan> ordered = new ArrayList<>(plans);
    ordered.sort(admissionOrder(programmed));
    Capacity capacity = new Capacity(config.lbMapMax());
    Map<ObjectRef, ServicePlan> held = new HashMap<>();
    Set<ObjectRef> planned = new HashSet<>();
    for (ServicePlan plan : ordered) {
      planned.add(plan.service());
      ServicePlan last = lastAdmitted.get(plan.service());
      if (last != null && capacity.checkFits(last).isEmpty()) {
        capacity.take(last);
        held.put(plan.service(), last);
      }
    }
    // A Service that is gone leaves its frontends at once (the writer deletes them first) but
    // its backends only at the end of the write: they count until then.
    lastAdmitted.forEach((service, last) -> {
      if (!planned.contains(service)) {
        capacity.takeBackends(last);
      }
    });
    Map<FrontendAddress, ObjectRef> claimedBy = new HashMap<>();
    Map<Integer, ObjectRef> healthCheckPorts = new HashMap<>();
    List<ServicePlan> admitted = new ArrayList<>();
    for (ServicePlan candidate : ordered) {
      ServicePlan plan = withoutClaimedFrontends(candidate, claimedBy, problems);
      ServicePlan last = held.remove(plan.service());
      if (last != null) {
        // its backends stay counted: the writer adds new backends before it deletes old ones
        capacity.releaseKeepingBackends(last);
      }
      Optional<Problem> full = capacity.checkFits(plan);
      if (full.isPresent()) {
        ServicePlan kept = last == null ? null : trimmedTo(last, plan);
        if (kept == null || capacity.checkFits(kept).isPresent()) {
          problems.add(full.get());
          continue;
        }
        problems.add(new Problem(plan.service(), Reason.MapFull,
            "Service kept to the ports and backends it has programmed that are still listed"
                + " (new ones wait for room): "
                + full.get().message().substring(full.get().message().indexOf(": ") + 2)));
        plan = kept;
      }
      capacity.take(plan);
      for (FrontendAddress address : plan.frontendAddresses()) {
        claimedBy.put(address, plan.service());
      }
      admitted.add(withoutClaimedHealthCheck(plan, healthCheckPorts, problems));
    }
    admitted.sort(Comparator.comparing(ServicePlan::service, DesiredServices.SERVICE_ORDER));
    return admitted;
  }

  /**
   * What a Service that grew past the maps' room keeps: its last admitted plan cut down to what
   * the current plan {@code now} still has, with the current states and settings. Views of ports
   * that are gone go; a kept view's slots are the current endpoints that already had a slot
   * (their current ready/terminating state), its lingering ones the current lingering endpoints
   * that already had an entry. Never larger than {@code last}, so it fits where {@code last} did;
   * a pod deleted meanwhile leaves its slot instead of staying in it (when none is left, the
   * frontend refuses connections, as one without endpoints does).
   */
  static ServicePlan trimmedTo(ServicePlan last, ServicePlan now) {
    List<FrontendView> views = new ArrayList<>();
    for (FrontendView had : last.views()) {
      Set<BackendAddress> inSlots = new HashSet<>();
      had.slots().forEach(e -> inSlots.add(e.backend()));
      Set<BackendAddress> withEntry = new HashSet<>(inSlots);
      had.lingering().forEach(e -> withEntry.add(e.backend()));
      now.views().stream()
          .filter(v -> v.address().equals(had.address()) && v.scope() == had.scope())
          .findFirst()
          .ifPresent(v -> views.add(new FrontendView(v.kind(), v.address(), v.scope(), v.flags(),
              v.affinityTimeoutSeconds(),
              v.slots().stream().filter(e -> inSlots.contains(e.backend())).toList(),
              v.lingering().stream().filter(e -> withEntry.contains(e.backend())).toList())));
    }
    return new ServicePlan(now.service(), now.createdAt(), views, now.healthCheckNodePort(),
        now.localEndpoints());
  }

  /**
   * First come, first served: what is programmed stays, then the oldest Service wins a conflict
   * (so a newcomer can never take an address from a running Service), then by name.
   *
   * @param programmed whether a frontend address had a rev-NAT id in the previous allocation
   */
  static Comparator<ServicePlan> admissionOrder(Predicate<FrontendAddress> programmed) {
    return Comparator.comparing((ServicePlan p) -> !p.wasProgrammed(programmed))
        .thenComparing(ServicePlan::createdAt)
        .thenComparing(ServicePlan::service, DesiredServices.SERVICE_ORDER);
  }

  static Predicate<FrontendAddress> wasProgrammed(ServiceIds previous) {
    return previous.revNatIds()::containsKey;
  }

  /** The problem of a Service that lost a frontend address to an earlier one. */
  static Problem frontendTaken(ServicePlan loser, FrontendView view, ObjectRef owner) {
    return new Problem(loser.service(), Reason.PortConflict,
        view.kind() + " frontend " + view.address() + " is already programmed for " + owner);
  }

  /** The problem of a Service whose healthCheckNodePort an earlier one serves; its plan without. */
  static Problem healthCheckTaken(ServicePlan loser, int port, ObjectRef owner) {
    return new Problem(loser.service(), Reason.PortConflict,
        "healthCheckNodePort " + port + " is already served for " + owner);
  }

  static ServicePlan withoutHealthCheck(ServicePlan plan) {
    return new ServicePlan(plan.service(), plan.createdAt(), plan.views(), Optional.empty(), 0);
  }

  private static ServicePlan withoutClaimedHealthCheck(
      ServicePlan plan, Map<Integer, ObjectRef> healthCheckPorts, List<Problem> problems) {
    if (plan.healthCheckNodePort().isEmpty()) {
      return plan;
    }
    int port = plan.healthCheckNodePort().get();
    ObjectRef owner = healthCheckPorts.putIfAbsent(port, plan.service());
    if (owner == null) {
      return plan;
    }
    problems.add(healthCheckTaken(plan, port, owner));
    return withoutHealthCheck(plan);
  }

  private static ServicePlan withoutClaimedFrontends(
      ServicePlan plan, Map<FrontendAddress, ObjectRef> claimedBy, List<Problem> problems) {
    Set<FrontendAddress> reported = new HashSet<>();
    List<FrontendView> kept = new ArrayList<>();
    for (FrontendView view : plan.views()) {
      ObjectRef owner = claimedBy.get(view.address());
      if (owner == null) {
        kept.add(view);
      } else if (reported.add(view.address())) {
        problems.add(frontendTaken(plan, view, owner));
      }
    }
    return kept.size() == plan.views().size() ? plan : plan.withViews(kept);
  }

  /** What is left of bpf-lb-map-max in the three maps, as Services are admitted. */
  private static final class Capacity {
    private final int lbMapMax;
    private final int revNatMax;
    /** Backends taken, with how many taken plans list each (Services share backends). */
    private final Map<BackendAddress, Integer> backends = new HashMap<>();
    private int serviceEntries;
    private int frontends;

    Capacity(int lbMapMax) {
      this.lbMapMax = lbMapMax;
      this.revNatMax = Math.min(lbMapMax, ServiceIds.MAX_REV_NAT_ID);
    }

    Optional<Problem> checkFits(ServicePlan plan) {
      for (FrontendView view : plan.views()) {
        if (view.slots().size() > MAX_SLOTS) {
          return mapFull(plan, "frontend " + view.address() + " has " + view.slots().size()
              + " backends, more than the " + MAX_SLOTS + " slots a frontend can hold");
        }
      }
      int entries = plan.serviceEntries();
      if (serviceEntries + entries > lbMapMax) {
        return mapFull(plan, "needs " + entries + " lb4_services entries but only "
            + (lbMapMax - serviceEntries) + " of bpf-lb-map-max " + lbMapMax + " are left");
      }
      long newBackends = plan.backendStates().keySet().stream()
          .filter(b -> !backends.containsKey(b)).count();
      if (backends.size() + newBackends > lbMapMax) {
        return mapFull(plan, "needs " + newBackends + " new lb4_backends entries but only "
            + (lbMapMax - backends.size()) + " of bpf-lb-map-max " + lbMapMax + " are left");
      }
      int newFrontends = plan.frontendAddresses().size();
      if (frontends + newFrontends > revNatMax) {
        return mapFull(plan, "needs " + newFrontends + " lb4_reverse_nat entries but only "
            + (revNatMax - frontends) + " of " + revNatMax + " are left");
      }
      return Optional.empty();
    }

    void take(ServicePlan plan) {
      serviceEntries += plan.serviceEntries();
      plan.backendStates().keySet().forEach(b -> backends.merge(b, 1, Integer::sum));
      // Admitted Services never share a frontend address (claims are exclusive).
      frontends += plan.frontendAddresses().size();
    }

    /**
     * Gives back the service entries and frontends of a plan about to be replaced; its backends
     * stay taken: lb4_backends holds them until the end of the write that replaces them.
     */
    void takeBackends(ServicePlan plan) {
      plan.backendStates().keySet().forEach(b -> backends.merge(b, 1, Integer::sum));
    }

    void releaseKeepingBackends(ServicePlan plan) {
      serviceEntries -= plan.serviceEntries();
      frontends -= plan.frontendAddresses().size();
    }

    private static Optional<Problem> mapFull(ServicePlan plan, String why) {
      return Optional.of(new Problem(plan.service(), Reason.MapFull,
          "Service skipped (not programmed at all): " + why));
    }
  }

  /**
   * The map entries of one admitted Service under the allocated ids: its masters and slots, its
   * rev-NAT entries, what {@code anetd bpf lb list} shows and its health check (the backends it
   * needs are {@link ServicePlan#backendStates()}). Admitted Services never share a
   * frontend address, so their entries never collide.
   */
  record RenderedService(
      ObjectRef service,
      Map<Lb4Key, Lb4Service> entries,
      Map<Integer, Lb4ReverseNat> revNat,
      List<ProgrammedFrontend> frontends,
      Optional<Map.Entry<Integer, HealthCheck>> healthCheck) {}

  static RenderedService render(ServicePlan plan, ToIntFunction<FrontendAddress> revNatIds,
      ToLongFunction<BackendAddress> backendIds) {
    Map<Lb4Key, Lb4Service> entries = new HashMap<>();
    Map<Integer, Lb4ReverseNat> revNat = new HashMap<>();
    List<ProgrammedFrontend> programmed = new ArrayList<>();
    for (FrontendView view : plan.views()) {
      FrontendAddress address = view.address();
      int revNatId = revNatIds.applyAsInt(address);
      List<Endpoint> slots = new ArrayList<>(view.slots());
      slots.sort(Comparator.comparing(Endpoint::backend));
      int flags = view.flags() | (slots.isEmpty() ? Lb4Service.F_NO_BACKENDS : 0);
      Lb4Key master = new Lb4Key(
          address.address(), address.port(), address.protocol(), view.scope(), 0);
      entries.put(master, Lb4Service.master(
          slots.size(), revNatId, flags, view.affinityTimeoutSeconds()));
      for (int i = 0; i < slots.size(); i++) {
        long backendId = backendIds.applyAsLong(slots.get(i).backend());
        entries.put(master.withSlot(i + 1), Lb4Service.slot(backendId, revNatId, flags));
      }
      revNat.put(revNatId, new Lb4ReverseNat(address.address(), address.port()));
      programmed.add(new ProgrammedFrontend(
          view.kind(), address, view.scope(), flags, slots.size(), revNatId));
    }
    // Immutable copies are arrays, not node per entry: every Service keeps its rendering.
    return new RenderedService(plan.service(), Map.copyOf(entries), Map.copyOf(revNat),
        List.copyOf(programmed), plan.healthCheckNodePort().map(
            port -> Map.entry(port, new HealthCheck(plan.service(), plan.localEndpoints()))));
  }

  /** The map entries of the admitted Services under the allocated ids. */
  private static DesiredServices render(
      List<ServicePlan> admitted, ServiceIds ids, List<Problem> problems) {
    SortedMap<Lb4Key, Lb4Service> services = new TreeMap<>(DesiredServices.KEY_ORDER);
    SortedMap<BackendAddress, Integer> backendStates = new TreeMap<>();
    SortedMap<Integer, Lb4ReverseNat> revNat = new TreeMap<>();
    SortedMap<Integer, HealthCheck> healthChecks = new TreeMap<>();
    SortedMap<ObjectRef, List<ProgrammedFrontend>> frontends =
        new TreeMap<>(DesiredServices.SERVICE_ORDER);
    for (ServicePlan plan : admitted) {
      RenderedService r = render(plan, ids.revNatIds()::get, ids.backendIds()::get);
      services.putAll(r.entries());
      revNat.putAll(r.revNat());
      plan.backendStates().forEach(
          (backend, state) -> backendStates.merge(backend, state, ServiceCompiler::mergeStates));
      r.healthCheck().ifPresent(hc -> healthChecks.put(hc.getKey(), hc.getValue()));
      frontends.put(plan.service(), r.frontends());
    }
    SortedMap<Long, Lb4Backend> backends = new TreeMap<>();
    backendStates.forEach((b, state) -> backends.put(ids.backendIds().get(b),
        new Lb4Backend(b.address(), b.port(), b.protocol(), state)));
    return new DesiredServices(services, backends, revNat, ids, healthChecks, frontends, problems);
  }

  /**
   * One backend listed by several Services or ports: ACTIVE if any listing is ready. Only a
   * backend that is terminating everywhere is marked TERMINATING.
   */
  static int mergeStates(int a, int b) {
    return a == Lb4Backend.STATE_ACTIVE || b == Lb4Backend.STATE_ACTIVE
        ? Lb4Backend.STATE_ACTIVE
        : Lb4Backend.STATE_TERMINATING;
  }

  /** RFC 3339 creation time (sorts chronologically as text); unknown times sort last. */
  private static String createdAt(Service service) {
    String t = service.getMetadata() == null ? null : service.getMetadata().getCreationTimestamp();
    return t == null || t.isEmpty() ? "~" : t;
  }

  private static List<Service> sortedByName(List<Service> services) {
    List<Service> sorted = new ArrayList<>(services);
    sorted.sort(Comparator.comparing(ServiceChecks::refOf, DesiredServices.SERVICE_ORDER));
    return sorted;
  }
}
