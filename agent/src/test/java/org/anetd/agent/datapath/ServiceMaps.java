package org.anetd.agent.datapath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;

/**
 * Writes the load-balancer maps of a loaded bpf_lxc object the way the agent's writer will
 * (backends, then slots, then reverse NAT, then the master entry; removals in reverse) and reads
 * conntrack back, for kernel tests. Also performs the agent's conntrack purge on backend removal.
 */
final class ServiceMaps {
  private final BpfMap services;
  private final BpfMap backends;
  private final BpfMap revNat;
  private final BpfMap affinity;
  private final BpfMap ctTcp;
  private final BpfMap ctAny;
  private final BpfMap metrics;
  private final Map<Lb4Key, Integer> slotCounts = new LinkedHashMap<>();

  ServiceMaps(BpfObject lxc) {
    services = lxc.map("anetd_lb4_services");
    backends = lxc.map("anetd_lb4_backends");
    revNat = lxc.map("anetd_lb4_reverse_nat");
    affinity = lxc.map("anetd_lb4_affinity");
    ctTcp = lxc.map("anetd_ct4_tcp");
    ctAny = lxc.map("anetd_ct4_any");
    metrics = lxc.map("anetd_metrics");
  }

  void backend(long id, String ip, int port, Protocol protocol) {
    backend(id, ip, port, protocol, Lb4Backend.STATE_ACTIVE);
  }

  void backend(long id, String ip, int port, Protocol protocol, int state) {
    backends.update(u32(id), Lb4BackendCodec.INSTANCE.encode(
        new Lb4Backend(Ipv4.parse(ip), port, protocol, state)));
  }

  void deleteBackend(long id) {
    backends.delete(u32(id));
  }

  /** A ClusterIP frontend (external scope) with the given backends in slots 1..n. */
  void frontend(String vip, int port, Protocol protocol, int revNatId, long... backendIds) {
    frontend(new Lb4Key(Ipv4.parse(vip), port, protocol, Lb4Key.SCOPE_EXTERNAL, 0), revNatId, 0,
        0, backendIds);
  }

  /**
   * Writes slots, reverse NAT, then the master (count = number of backends, timeout in the
   * master's backend_id); slots beyond the new count are deleted after the master shrank.
   */
  void frontend(Lb4Key key, int revNatId, int flags, long affinitySeconds, long... backendIds) {
    Lb4Key master = key.master();
    for (int i = 0; i < backendIds.length; i++) {
      services.update(Lb4KeyCodec.INSTANCE.encode(master.withSlot(i + 1)),
          Lb4ServiceCodec.INSTANCE.encode(Lb4Service.slot(backendIds[i], revNatId, flags)));
    }
    revNat.update(u16(revNatId), Lb4ReverseNatCodec.INSTANCE.encode(
        new Lb4ReverseNat(master.address(), master.port())));
    services.update(Lb4KeyCodec.INSTANCE.encode(master), Lb4ServiceCodec.INSTANCE.encode(
        Lb4Service.master(backendIds.length, revNatId, flags, affinitySeconds)));
    int before = slotCounts.getOrDefault(master, 0);
    for (int s = backendIds.length + 1; s <= before; s++) {
      services.delete(Lb4KeyCodec.INSTANCE.encode(master.withSlot(s)));
    }
    slotCounts.put(master, backendIds.length);
  }

  /** The agent's purge on backend removal: every conntrack entry whose backend_id is {@code id}. */
  int purgeConntrack(long id) {
    int purged = 0;
    for (BpfMap ct : List.of(ctTcp, ctAny)) {
      List<byte[]> doomed = new ArrayList<>();
      for (BpfMap.Entry e : ct.entries()) {
        if (Ct4EntryCodec.INSTANCE.decode(e.value()).backendId() == id) {
          doomed.add(e.key());
        }
      }
      purged += ct.deleteBatch(doomed);
    }
    return purged;
  }

  Map<Ct4Key, Ct4Entry> conntrack(Protocol protocol) {
    Map<Ct4Key, Ct4Entry> out = new LinkedHashMap<>();
    for (BpfMap.Entry e : (protocol == Protocol.TCP ? ctTcp : ctAny).entries()) {
      out.put(Ct4KeyCodec.INSTANCE.decode(e.key()), Ct4EntryCodec.INSTANCE.decode(e.value()));
    }
    return out;
  }

  Optional<Ct4Entry> conntrack(Ct4Key key) {
    BpfMap ct = key.protocol() == Protocol.TCP ? ctTcp : ctAny;
    return ct.lookup(Ct4KeyCodec.INSTANCE.encode(key)).map(Ct4EntryCodec.INSTANCE::decode);
  }

  void conntrack(Ct4Key key, Ct4Entry entry) {
    BpfMap ct = key.protocol() == Protocol.TCP ? ctTcp : ctAny;
    ct.update(Ct4KeyCodec.INSTANCE.encode(key), Ct4EntryCodec.INSTANCE.encode(entry));
  }

  Optional<Lb4AffinityValue> affinity(String client, int revNatId) {
    return affinity.lookup(Lb4AffinityKeyCodec.INSTANCE.encode(
        new Lb4AffinityKey(Ipv4.parse(client), revNatId)))
        .map(Lb4AffinityValueCodec.INSTANCE::decode);
  }

  void affinity(String client, int revNatId, Lb4AffinityValue value) {
    affinity.update(Lb4AffinityKeyCodec.INSTANCE.encode(
        new Lb4AffinityKey(Ipv4.parse(client), revNatId)),
        Lb4AffinityValueCodec.INSTANCE.encode(value));
  }

  /** Packets counted under (reason, direction), summed over CPUs; 0 when never counted. */
  long packets(int reason, int direction) {
    return Datapath.counted(metrics, new MetricsKey(reason, direction)).packets();
  }

  private static byte[] u32(long v) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt((int) v).array();
  }

  private static byte[] u16(int v) {
    return ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) v).array();
  }
}
