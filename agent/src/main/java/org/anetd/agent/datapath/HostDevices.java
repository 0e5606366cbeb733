package org.anetd.agent.datapath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;

/**
 * The node's external interfaces and bpf_host's programs on them: {@code from_netdev} on tc
 * ingress, {@code to_netdev} on tc egress ({@link NodePrograms}).
 *
 * <p>Which interfaces: the configured list, or by default every interface that has a global
 * IPv4 address and carries a default route; never {@code lo} and never a pod veth ({@code lxc*}).
 * {@link #attach} is idempotent (attaching again replaces the program in place), and {@link
 * #close} removes only the filters this object attached, destroying a clsact hook only where it
 * created it. The filters stay when the agent stops; {@link #removeLeftPrograms} takes off those
 * an earlier agent left, when the node programs are no longer wanted, and {@link
 * #removeLeftPrograms(Set)} those left on interfaces this object does not serve (no longer
 * selected: the default route moved, the interface no longer holds a Node address).
 */
public final class HostDevices implements AutoCloseable {
  /** Host veth names of pods start with this (see endpoint.HostVethName). */
  static final String POD_VETH_PREFIX = "lxc";
  /** bpf_host's programs as the kernel names them: what {@link #removeLeftPrograms} looks for. */
  static final String FROM_NETDEV = "from_netdev";
  static final String TO_NETDEV = "to_netdev";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TIMEOUT_SECONDS = 10;
  private static final int ENODEV = 19;

  private final Path netns;
  private final Map<String, DeviceAttachment> attached = new LinkedHashMap<>();

  /** bpf_host's programs for an external interface: tc ingress and tc egress. */
  public record NodePrograms(BpfProgram fromNetdev, BpfProgram toNetdev) {}

  /** What this object attached to one interface. */
  private record DeviceAttachment(TcAttachment ingress, TcAttachment egress) {
    int ifindex() {
      return egress.ifindex();
    }

    /**
     * Both filters, then the clsact hook if this object created it (the egress attachment,
     * made first, is the one that may have): destroying it removes both directions.
     */
    void detach() {
      ingress.detach(false);
      egress.detach(true);
    }
  }

  /** @param netns the node's network namespace, or null for the agent's own */
  public HostDevices(Path netns) {
    this.netns = netns;
  }

  /**
   * The default selection from {@code ip -j -4 addr show} and {@code ip -j -4 route show
   * default}: interfaces with a global IPv4 address that carry a default route.
   */
  static List<String> select(JsonNode addresses, JsonNode defaultRoutes) {
    return select(addresses, defaultRoutes, Set.of());
  }

  /**
   * As above, plus every interface holding one of {@code nodeAddresses} (the Node's InternalIP
   * and ExternalIP, where NodePorts listen), default route or not: a private network's interface
   * next to a public uplink, say.
   */
  static List<String> select(JsonNode addresses, JsonNode defaultRoutes,
      Set<Ipv4> nodeAddresses) {
    Set<String> routed = new LinkedHashSet<>();
    defaultRoutes.forEach(r -> routed.addAll(devices(r)));
    List<String> out = new ArrayList<>();
    for (JsonNode link : addresses) {
      String name = link.path("ifname").asText("");
      if (!external(name)) {
        continue;
      }
      for (JsonNode a : link.path("addr_info")) {
        if (globalIpv4(a).filter(ip -> routed.contains(name) || nodeAddresses.contains(ip))
            .isPresent()) {
          out.add(name);
          break;
        }
      }
    }
    return out;
  }

  /**
   * The node's own address for traffic it sends on its behalf (SNAT of LoadBalancer and external
   * IP connections to backends elsewhere): the preferred source of the first default route, else
   * the first global IPv4 address of its interface. Empty without a default route.
   */
  static Optional<Ipv4> primaryAddress(JsonNode addresses, JsonNode defaultRoutes) {
    for (JsonNode r : defaultRoutes) {
      if (r.hasNonNull("prefsrc")) {
        return Optional.of(Ipv4.parse(r.get("prefsrc").asText()));
      }
      for (String dev : devices(r)) {
        Optional<Ipv4> address = link(addresses, dev).flatMap(HostDevices::firstGlobalIpv4);
        if (address.isPresent()) {
          return address;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The MTU of the interface that carries the first default route (what pods' interfaces get
   * with cilium-config mtu 0), or empty without one.
   */
  static OptionalInt primaryMtu(JsonNode addresses, JsonNode defaultRoutes) {
    for (JsonNode r : defaultRoutes) {
      for (String dev : devices(r)) {
        Optional<JsonNode> link = link(addresses, dev).filter(l -> l.path("mtu").asInt(0) > 0);
        if (link.isPresent()) {
          return OptionalInt.of(link.get().get("mtu").asInt());
        }
      }
    }
    return OptionalInt.empty();
  }

  /** The external interfaces a route goes out of: its device, or its nexthops' ones. */
  private static List<String> devices(JsonNode route) {
    List<String> devices = new ArrayList<>();
    if (route.hasNonNull("dev")) {
      devices.add(route.get("dev").asText());
    }
    route.path("nexthops").forEach(nh -> {
      if (nh.hasNonNull("dev")) {
        devices.add(nh.get("dev").asText());
      }
    });
    devices.removeIf(dev -> !external(dev));
    return devices;
  }

  /** Not {@code lo}, not a pod's host veth. */
  private static boolean external(String ifname) {
    return !ifname.isEmpty() && !ifname.equals("lo") && !ifname.startsWith(POD_VETH_PREFIX);
  }

  /** The link named {@code ifname} in {@code ip -j addr show} output. */
  private static Optional<JsonNode> link(JsonNode addresses, String ifname) {
    for (JsonNode link : addresses) {
      if (link.path("ifname").asText("").equals(ifname)) {
        return Optional.of(link);
      }
    }
    return Optional.empty();
  }

  private static Optional<Ipv4> firstGlobalIpv4(JsonNode link) {
    for (JsonNode a : link.path("addr_info")) {
      Optional<Ipv4> address = globalIpv4(a);
      if (address.isPresent()) {
        return address;
      }
    }
    return Optional.empty();
  }

  /** The address of an {@code addr_info} element that is a global-scope IPv4 one. */
  private static Optional<Ipv4> globalIpv4(JsonNode addrInfo) {
    String local = addrInfo.path("local").asText("");
    return addrInfo.path("family").asText().equals("inet")
        && addrInfo.path("scope").asText().equals("global") && Ipv4.isValid(local)
        ? Optional.of(Ipv4.parse(local)) : Optional.empty();
  }

  /** {@link #primaryMtu} in the node's namespace now. */
  public OptionalInt detectPrimaryMtu() {
    return primaryMtu(addresses(), defaultRoutes());
  }

  /** {@link #primaryAddress} in the node's namespace now. */
  public Optional<Ipv4> detectPrimaryAddress() {
    return primaryAddress(addresses(), defaultRoutes());
  }

  /** The interfaces {@link #select} picks in the node's namespace now, by default route only. */
  public List<String> detect() {
    return detect(Set.of());
  }

  /** The interfaces {@link #select} picks in the node's namespace now. */
  public List<String> detect(Set<Ipv4> nodeAddresses) {
    return select(addresses(), defaultRoutes(), nodeAddresses);
  }

  /**
   * Attaches the programs to the interfaces {@link #detect} picks now that are not attached
   * yet, or were created again since (a new ifindex): run again when the Node's addresses or the
   * node's routes may have changed (a DHCP lease, a link that flapped). Returns the interfaces it
   * attached.
   */
  public synchronized List<String> attachNew(Set<Ipv4> nodeAddresses, NodePrograms programs) {
    List<String> added = new ArrayList<>();
    for (String dev : detect(nodeAddresses)) {
      DeviceAttachment known = attached.get(dev);
      int ifindex = inNetns(() -> NetworkNamespace.ifindex(dev));
      if (known != null && known.ifindex() == ifindex) {
        continue;
      }
      attached.put(dev, attachTo(ifindex, programs));
      added.add(dev);
    }
    return added;
  }

  /**
   * Attaches the programs to each named interface (the configured list, or {@link #detect()}
   * when it is empty). Returns the interfaces now attached by this object.
   */
  public synchronized List<String> attach(List<String> configured, NodePrograms programs) {
    List<String> devices = configured.isEmpty() ? detect(Set.of()) : configured;
    for (String dev : devices) {
      if (dev.equals("lo") || dev.startsWith(POD_VETH_PREFIX)) {
        throw new IllegalArgumentException("refusing to attach bpf_host to " + dev
            + ": not an external interface");
      }
      DeviceAttachment a = attachTo(inNetns(() -> NetworkNamespace.ifindex(dev)), programs);
      // a repeat attach replaced our filters in place; the first one knows who made the hook,
      // unless the interface was created again since (a new ifindex)
      DeviceAttachment known = attached.get(dev);
      if (known == null || known.ifindex() != a.ifindex()) {
        attached.put(dev, a);
      }
    }
    return List.copyOf(attached.keySet());
  }

  /**
   * Egress first: alone it translates nothing (no reply entries without from_netdev), while
   * from_netdev alone would answer hostNetwork backends' NodePorts with untranslated replies.
   * Each attach replaces its own filter in place, so a failure leaves what was there, and never
   * takes away a from_netdev an earlier agent attached.
   */
  private DeviceAttachment attachTo(int ifindex, NodePrograms programs) {
    TcAttachment egress = inNetns(() -> TcAttachment.attach(ifindex,
        TcAttachment.Direction.EGRESS, programs.toNetdev()));
    try {
      TcAttachment ingress = inNetns(() -> TcAttachment.attach(ifindex,
          TcAttachment.Direction.INGRESS, programs.fromNetdev()));
      return new DeviceAttachment(ingress, egress);
    } catch (RuntimeException e) {
      if (egress.hookCreated()) { // nothing was there before: leave nothing behind
        inNetns(() -> {
          egress.detach(true);
          return null;
        });
      }
      throw e;
    }
  }

  /**
   * What {@link #removeLeftPrograms} did: the interfaces it took bpf_host's filters off, and
   * why it could not on others (interface name to the reason).
   */
  public record Removal(List<String> removed, Map<String, String> failed) {}

  /**
   * Removes bpf_host's filters an earlier agent left on the interfaces of the node's namespace
   * (all but {@code lo} and pod veths): the agent runs without kube-proxy-replacement, and they
   * would go on translating NodePorts, LoadBalancer and external IPs beside kube-proxy. A filter
   * is anetd's when it sits at anetd's handle and priority and its program is {@code
   * from_netdev} on ingress, {@code to_netdev} on egress; every other filter stays, and so do the
   * clsact hooks (whoever made them, other filters may hang on them). An interface that fails is
   * reported in the result, the others are still done; only listing the interfaces throws.
   */
  public Removal removeLeftPrograms() {
    return removeLeftPrograms(Set.of());
  }

  /**
   * {@link #removeLeftPrograms()} on every interface but those named in {@code keep}: with
   * kube-proxy-replacement, the interfaces this agent serves ({@link #attached}) keep their
   * filters, and those an earlier agent attached to interfaces no longer selected (the default
   * route moved elsewhere, the interface no longer holds one of the Node's addresses) are taken
   * off, or they would go on running that agent's program on the shared maps there. Run it only
   * once the selection is complete (the Node's addresses known and {@link #attachNew} done): an
   * interface selected for a Node address alone is not attached before, and its NodePorts would
   * stop answering until it is.
   */
  public synchronized Removal removeLeftPrograms(Set<String> keep) {
    Map<Integer, String> devices = new LinkedHashMap<>();
    for (JsonNode link : json(List.of("ip", "-j", "link", "show"))) {
      String name = link.path("ifname").asText("");
      if (external(name) && !keep.contains(name) && link.path("ifindex").asInt(0) > 0) {
        devices.put(link.get("ifindex").asInt(), name);
      }
    }
    return inNetns(() -> {
      List<String> removed = new ArrayList<>();
      Map<String, String> failed = new LinkedHashMap<>();
      devices.forEach((ifindex, name) -> {
        try {
          if (removeLeftProgramsOn(ifindex)) {
            removed.add(name);
          }
        } catch (BpfException e) {
          if (e.errno() != ENODEV) { // ENODEV: deleted since the listing, nothing left there
            failed.put(name, e.getMessage());
          }
        } catch (RuntimeException e) {
          failed.put(name, e.toString());
        }
      });
      return new Removal(List.copyOf(removed), Collections.unmodifiableMap(failed));
    });
  }

  /**
   * {@link #removeLeftPrograms()} on one interface, in the node's namespace. from_netdev first:
   * to_netdev alone translates nothing, from_netdev alone would leave hostNetwork backends'
   * replies untranslated (see {@link #attachTo}).
   */
  private static boolean removeLeftProgramsOn(int ifindex) {
    boolean any = false;
    for (TcAttachment.Direction direction : List.of(TcAttachment.Direction.INGRESS,
        TcAttachment.Direction.EGRESS)) {
      String ours = direction == TcAttachment.Direction.INGRESS ? FROM_NETDEV : TO_NETDEV;
      if (TcAttachment.attachedProgram(ifindex, direction)
          .filter(p -> p.name().equals(ours)).isPresent()) {
        TcAttachment.existing(ifindex, direction).detach(false);
        any = true;
      }
    }
    return any;
  }

  /** Interfaces attached by this object. */
  public synchronized List<String> attached() {
    return List.copyOf(attached.keySet());
  }

  @Override
  public synchronized void close() {
    for (DeviceAttachment a : attached.values()) {
      inNetns(() -> {
        a.detach();
        return null;
      });
    }
    attached.clear();
  }

  private <T> T inNetns(java.util.concurrent.Callable<T> work) {
    return NetworkNamespace.callIn(netns, work);
  }

  private JsonNode addresses() {
    return json(List.of("ip", "-j", "-4", "addr", "show"));
  }

  private JsonNode defaultRoutes() {
    return json(List.of("ip", "-j", "-4", "route", "show", "default"));
  }

  private JsonNode json(List<String> command) {
    NetnsCommand.Result r = NetnsCommand.run(netns, command, Duration.ofSeconds(TIMEOUT_SECONDS));
    if (r.exit() != 0) {
      throw new IllegalStateException("`" + String.join(" ", r.command()) + "` failed: "
          + r.output().strip());
    }
    try {
      return JSON.readTree(r.output().isBlank() ? "[]" : r.output());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the output of `" + String.join(" ",
          r.command()) + "`: " + e.getMessage(), e);
    }
  }
}
