package org.anetd.agent.datapath;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;

/**
 * The loaded datapath of one node: the pod programs (bpf_lxc.o), the node interface programs
 * (bpf_host.o) and the socket load balancer (bpf_sock.o), sharing every map, sized from the
 * settings and pinned under the pin root, so that a restarted agent adopts the same maps and the
 * connections they track.
 */
public final class Datapath implements AutoCloseable {
  public static final String LB4_SERVICES = "anetd_lb4_services";
  public static final String LB4_BACKENDS = "anetd_lb4_backends";
  public static final String LB4_REVERSE_NAT = "anetd_lb4_reverse_nat";
  public static final String LB4_AFFINITY = "anetd_lb4_affinity";
  public static final String CT4_TCP = "anetd_ct4_tcp";
  public static final String CT4_ANY = "anetd_ct4_any";
  public static final String IPCACHE4 = "anetd_ipcache4";
  public static final String POLICY = "anetd_policy";
  public static final String ENDPOINTS = "anetd_endpoints";
  public static final String METRICS = "anetd_metrics";
  public static final String EVENTS = "anetd_events";
  public static final String SNAT4 = "anetd_snat4";
  public static final String LXC = "anetd_lxc";
  public static final String LB4_SOCK_REV = "anetd_lb4_sock_rev";
  public static final String LB4_SOCK_UDP_REV = "anetd_lb4_sock_udp_rev";
  /** Ports of fragmented datagrams by first fragment (pkt.h); notes of moments, never read here. */
  public static final String FRAG4 = "anetd_frag4";

  /** Reverse NAT ids are __u16: the map never needs more entries than ids exist. */
  private static final int REV_NAT_IDS = 65535;

  private final DatapathSettings settings;
  private final BpfObject lxc;
  private final BpfObject host;
  private final BpfObject sock;

  private Datapath(DatapathSettings settings, BpfObject lxc, BpfObject host, BpfObject sock) {
    this.settings = settings;
    this.lxc = lxc;
    this.host = host;
    this.sock = sock;
  }

  /** {@link #load(DatapathSettings, HostSettings)} with the default host tunables. */
  public static Datapath load(DatapathSettings settings) {
    return load(settings, HostSettings.defaults());
  }

  /**
   * Opens bpf_lxc.o, bpf_host.o and bpf_sock.o from the agent jar, sizes and pins their maps
   * (the later objects adopt the maps bpf_lxc pinned), sets bpf_host's tunables, loads all three.
   * Loading attaches nothing.
   */
  public static Datapath load(DatapathSettings settings, HostSettings hostSettings) {
    try {
      Files.createDirectories(settings.pinRoot());
    } catch (IOException e) {
      throw new BpfException("create pin directory " + settings.pinRoot() + ": " + e.getMessage(),
          e);
    }
    BpfObject lxc = BpfObject.openResource("bpf_lxc.o");
    BpfObject host = null;
    BpfObject sock = null;
    try {
      sized(lxc, settings)
          .setRodataU32("policy_audit_mode", settings.policyAuditMode() ? 1 : 0)
          .setRodataU32("policy_verdict_events", settings.policyVerdictEvents() ? 1 : 0)
          .pinMapsUnder(settings.pinRoot())
          // counters only (older agents pinned a hash); notes of fragments in flight
          .recreatingOnLayoutChange(METRICS, FRAG4)
          .load();
      host = BpfObject.openResource("bpf_host.o");
      sized(host, settings)
          .setRodataU32("snat_port_min", hostSettings.snatPortMin())
          .setRodataU32("snat_port_max", hostSettings.snatPortMax())
          .setRodataU32("snat_ipv4", hostSettings.snatIpv4().map(Ipv4::bits).orElse(0))
          .pinMapsUnder(settings.pinRoot())
          .load();
      sock = BpfObject.openResource("bpf_sock.o");
      sized(sock, settings).pinMapsUnder(settings.pinRoot()).load();
      return new Datapath(settings, lxc, host, sock);
    } catch (RuntimeException e) {
      if (sock != null) {
        sock.close();
      }
      if (host != null) {
        host.close();
      }
      lxc.close();
      throw e;
    }
  }

  /** The shared maps' sizes, the same in every object (a pinned map is adopted only if equal). */
  public static BpfObject sized(BpfObject object, DatapathSettings settings) {
    List<String> maps = object.mapNames();
    java.util.Map<String, Integer> sizes = java.util.Map.of(
        LB4_SERVICES, settings.lbMapMax(),
        LB4_BACKENDS, settings.lbMapMax(),
        LB4_REVERSE_NAT, Math.min(settings.lbMapMax(), REV_NAT_IDS),
        LB4_AFFINITY, settings.lbMapMax(),
        CT4_TCP, settings.ctTcpMax(),
        CT4_ANY, settings.ctAnyMax(),
        POLICY, settings.policyMapMax(), // one map for every endpoint of the node
        LB4_SOCK_REV, settings.ctTcpMax(), // one entry per open TCP socket balanced at connect
        LB4_SOCK_UDP_REV, settings.ctAnyMax(), // host UDP flows balanced at the socket
        SNAT4, settings.ctTcpMax()); // two entries per SNATed connection, as conntrack
    sizes.forEach((name, size) -> {
      if (maps.contains(name)) {
        object.setMaxEntries(name, size);
      }
    });
    return object;
  }

  public DatapathSettings settings() {
    return settings;
  }

  /** A pinned map by name, from the first object that has it (lxc, host, sock). */
  public BpfMap map(String name) {
    for (BpfObject o : List.of(lxc, host)) {
      if (o.mapNames().contains(name)) {
        return o.map(name);
      }
    }
    return sock.map(name);
  }

  /**
   * What an anetd_metrics map counted under {@code key}, summed over CPUs (packets; for
   * {@link MetricsKey#REASON_SOCK_LB_TRANSLATED} connect() calls); zero when never counted.
   */
  public static MetricsValue counted(BpfMap metrics, MetricsKey key) {
    return metrics.lookup(MetricsKeyCodec.INSTANCE.encode(key))
        .map(MetricsValueCodec.INSTANCE::sumPerCpu).orElse(new MetricsValue(0, 0));
  }

  /**
   * Every counter of an anetd_metrics map that counted something, summed over CPUs, in slot order
   * (for anetd_datapath_packets_total and _bytes_total).
   */
  public static java.util.Map<MetricsKey, MetricsValue> counters(BpfMap metrics) {
    java.util.Map<MetricsKey, MetricsValue> out = new java.util.LinkedHashMap<>();
    for (int slot = 0; slot < MetricsKey.SLOTS; slot++) {
      MetricsKey key = MetricsKey.ofSlot(slot);
      MetricsValue v = counted(metrics, key);
      if (v.packets() != 0) {
        out.put(key, v);
      }
    }
    return out;
  }

  /** This datapath's counters, see {@link #counters(BpfMap)}. */
  public java.util.Map<MetricsKey, MetricsValue> counters() {
    return counters(map(METRICS));
  }

  /** The conntrack tables, TCP and then UDP/ICMP: what the purges and the GC work on. */
  public List<MapBackend> conntrackTables() {
    return List.of(MapBackend.of(map(CT4_TCP)), MapBackend.of(map(CT4_ANY)));
  }

  /**
   * bpf_host's SNAT table (anetd_snat4): its entries expire with their connections and are
   * collected with the conntrack tables ({@link ConntrackPurger#purgeExpiredSnat}).
   */
  public MapBackend snatTable() {
    return MapBackend.of(map(SNAT4));
  }

  /** TCP connect() calls translated to a backend at the socket since the maps were created. */
  public long socketTranslations() {
    return counted(map(METRICS), new MetricsKey(MetricsKey.REASON_SOCK_LB_TRANSLATED,
        MetricsKey.DIR_EGRESS)).packets();
  }

  public BpfProgram fromContainer() {
    return lxc.program("from_container");
  }

  public BpfProgram toContainer() {
    return lxc.program("to_container");
  }

  /** tc ingress of the node's external interfaces (see {@link HostDevices}). */
  public BpfProgram fromNetdev() {
    return host.program("from_netdev");
  }

  /** bpf_host's programs for the node's external interfaces (see {@link HostDevices}). */
  public HostDevices.NodePrograms nodePrograms() {
    return new HostDevices.NodePrograms(fromNetdev(), host.program("to_netdev"));
  }

  /** Socket-level load balancing (bpf-lb-sock): links of bpf_sock's programs, pinned. */
  public SocketLoadBalancer socketLoadBalancer() {
    return new SocketLoadBalancer(settings.pinRoot().resolve("links"), sock);
  }

  /** A writer over the load-balancer maps that adopts what they hold now. */
  public LoadBalancerWriter loadBalancerWriter() {
    return new LoadBalancerWriter(MapBackend.of(map(LB4_SERVICES)), MapBackend.of(map(LB4_BACKENDS)),
        MapBackend.of(map(LB4_REVERSE_NAT)));
  }

  /** A writer over the policy, endpoint and ipcache maps that adopts what they hold now. */
  public PolicyWriter policyWriter() {
    return new PolicyWriter(MapBackend.of(map(POLICY)), MapBackend.of(map(ENDPOINTS)),
        MapBackend.of(map(IPCACHE4)));
  }

  /** A writer over anetd_lxc (local delivery) that adopts what it holds now. */
  public LxcWriter lxcWriter() {
    return new LxcWriter(MapBackend.of(map(LXC)));
  }

  @Override
  public void close() {
    sock.close();
    host.close();
    lxc.close();
  }
}
