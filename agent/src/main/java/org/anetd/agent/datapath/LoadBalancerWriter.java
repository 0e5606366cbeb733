package org.anetd.agent.datapath;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Writes the load-balancer maps in an order that keeps every intermediate state safe for packets
 * in flight: a frontend's master entry (which carries the slot count) is written only after the
 * backends and slots it points to, and removed before them.
 *
 * <pre>
 *   0. frontend addresses that go away entirely: masters -> reverse NAT -> their slots
 *   upserts: backends
 *     -> frontends whose slot count stays or drops: slots -> master -> their extra slots
 *     -> the others: service slots -> reverse NAT -> frontends (masters)
 *   deletes: frontends -> reverse NAT -> service slots -> backends
 * </pre>
 *
 * Step 0 makes room before anything is added: near {@code bpf-lb-map-max}, the entries a change
 * adds would otherwise have to fit next to the ones it removes (a Service the compiler dropped to
 * make room for another's growth), and the write would fail again at every pass. Deleting a
 * frontend address whole first is as safe as deleting it last: nothing that stays uses it. A
 * frontend that keeps one of its two views (externalTrafficPolicy back to Cluster) is not in step
 * 0: its other master must change first.
 */
public final class LoadBalancerWriter {
  /**
   * What a pass did, and which backends disappeared, as they were (their conntrack entries need
   * purging, see {@link ConntrackPurger}).
   */
  public record Result(WriteResult writes, Map<Long, Lb4Backend> removedBackends,
      Set<Integer> removedRevNat) {}

  private final MapWriter<Lb4Key, Lb4Service> services;
  private final MapWriter<Long, Lb4Backend> backends;
  private final MapWriter<Integer, Lb4ReverseNat> revNat;

  public LoadBalancerWriter(MapBackend services, MapBackend backends, MapBackend revNat) {
    this.services = new MapWriter<>(services, Lb4KeyCodec.INSTANCE, Lb4ServiceCodec.INSTANCE);
    this.backends = new MapWriter<>(backends, U32Codec.INSTANCE, Lb4BackendCodec.INSTANCE);
    this.revNat = new MapWriter<>(revNat, U16Codec.INSTANCE, Lb4ReverseNatCodec.INSTANCE);
  }

  public Result write(Map<Lb4Key, Lb4Service> desiredServices, Map<Long, Lb4Backend> desiredBackends,
      Map<Integer, Lb4ReverseNat> desiredRevNat) {
    Map<Long, Lb4Backend> removed = new HashMap<>();
    backends.forEachWritten((id, backend) -> {
      if (!desiredBackends.containsKey(id)) {
        removed.put(id, backend);
      }
    });
    Set<Integer> removedRevNat = new HashSet<>(revNat.written().keySet());
    removedRevNat.removeAll(desiredRevNat.keySet());
    Set<FrontendId> kept = frontendIds(desiredServices.keySet());
    Predicate<Lb4Key> addressGone = key -> !kept.contains(FrontendId.of(key));
    WriteResult writes = services.deleteStale(desiredServices.keySet(),
        key -> key.slot() == 0 && addressGone.test(key));
    Set<Integer> named = revNatNamedByMasters();
    writes = writes.plus(revNat.deleteStale(desiredRevNat.keySet(), id -> !named.contains(id)))
        .plus(services.deleteStale(desiredServices.keySet(),
            key -> key.slot() != 0 && addressGone.test(key)))
        .plus(backends(desiredBackends));
    Predicate<Lb4Key> ofShrinking = ofNotGrowing(desiredServices);
    writes = writes.plus(serviceSlots(desiredServices, ofShrinking))
        .plus(frontends(desiredServices, ofShrinking))
        .plus(services.deleteStale(desiredServices.keySet(),
            key -> key.slot() != 0 && ofShrinking.test(key)))
        .plus(serviceSlots(desiredServices, ofShrinking.negate()))
        .plus(revNat(desiredRevNat))
        .plus(frontends(desiredServices, ofShrinking.negate()))
        .plus(staleFrontends(desiredServices))
        .plus(staleRevNat(desiredRevNat))
        .plus(staleServiceSlots(desiredServices))
        .plus(staleBackends(desiredBackends));
    return new Result(writes, Map.copyOf(removed), Set.copyOf(removedRevNat));
  }

  /**
   * Applies one pass's changes in the same safe order as {@link #write}: upserted backends, slots,
   * reverse NAT, masters; then deleted masters, reverse NAT, slots, backends. Costs what changed,
   * not what the maps hold.
   */
  public Result apply(LbChanges changes) {
    Map<Long, Lb4Backend> removed = new HashMap<>();
    for (Long id : changes.backendDeletes()) {
      Lb4Backend was = backends.writtenValue(id);
      if (was != null) {
        removed.put(id, was);
      }
    }
    Set<Integer> removedRevNat = new HashSet<>(changes.revNatDeletes());
    removedRevNat.retainAll(revNat.written().keySet());
    Map<Lb4Key, Lb4Service> upserts = changes.serviceUpserts();
    Set<Lb4Key> remaining = new HashSet<>(services.written().keySet());
    remaining.removeAll(changes.serviceDeletes());
    remaining.addAll(upserts.keySet());
    Set<FrontendId> kept = frontendIds(remaining);
    Predicate<Lb4Key> addressGone = key -> !kept.contains(FrontendId.of(key));
    List<Lb4Key> goneMasters = changes.serviceDeletes().stream()
        .filter(key -> key.slot() == 0 && addressGone.test(key)).toList();
    List<Lb4Key> goneSlots = changes.serviceDeletes().stream()
        .filter(key -> key.slot() != 0 && addressGone.test(key)).toList();
    List<Lb4Key> deletedMasters = changes.serviceDeletes().stream()
        .filter(key -> key.slot() == 0 && !addressGone.test(key)).toList();
    List<Lb4Key> deletedSlots = changes.serviceDeletes().stream()
        .filter(key -> key.slot() != 0 && !addressGone.test(key)).toList();
    WriteResult writes = services.delete(goneMasters);
    Set<Integer> named = revNatNamedByMasters();
    writes = writes.plus(revNat.delete(changes.revNatDeletes().stream()
            .filter(id -> !named.contains(id)).toList()))
        .plus(services.delete(goneSlots))
        .plus(backends.upsert(changes.backendUpserts()));
    Predicate<Lb4Key> ofShrinking = ofNotGrowing(upserts);
    writes = writes.plus(serviceSlots(upserts, ofShrinking))
        .plus(frontends(upserts, ofShrinking))
        .plus(services.delete(deletedSlots.stream().filter(ofShrinking).toList()))
        .plus(serviceSlots(upserts, ofShrinking.negate()))
        .plus(revNat.upsert(changes.revNatUpserts()))
        .plus(frontends(upserts, ofShrinking.negate()))
        .plus(services.delete(deletedMasters))
        .plus(revNat.delete(changes.revNatDeletes()))
        .plus(services.delete(deletedSlots))
        .plus(backends.delete(changes.backendDeletes()));
    return new Result(writes, Map.copyOf(removed), Set.copyOf(removedRevNat));
  }

  /** A frontend address, whatever the view (scope) and slot of its keys. */
  private record FrontendId(Ipv4 address, int port, Protocol protocol) {
    static FrontendId of(Lb4Key key) {
      return new FrontendId(key.address(), key.port(), key.protocol());
    }
  }

  /**
   * Keys of the frontends (views) whose new master in {@code masters} keeps or lowers the slot
   * count of the one written, under the same reverse NAT id: the writer completes them (slots,
   * master, then their extra slots deleted) before it adds any slot for a growing frontend, so a
   * change whose end state fits never needs room for a growing frontend's new slots next to a
   * shrinking one's old slots.
   */
  private Predicate<Lb4Key> ofNotGrowing(Map<Lb4Key, Lb4Service> masters) {
    Set<Lb4Key> notGrowing = new HashSet<>();
    masters.forEach((key, value) -> {
      if (key.slot() == 0) {
        Lb4Service was = services.writtenValue(key);
        if (was != null && value.count() <= was.count() && value.revNatId() == was.revNatId()) {
          notGrowing.add(key);
        }
      }
    });
    return key -> notGrowing.contains(key.withSlot(0));
  }

  /** The reverse NAT ids the masters the maps hold now name (those stay until masters change). */
  private Set<Integer> revNatNamedByMasters() {
    Set<Integer> ids = new HashSet<>();
    services.forEachWritten((key, value) -> {
      if (key.slot() == 0) {
        ids.add(value.revNatId());
      }
    });
    return ids;
  }

  private static Set<FrontendId> frontendIds(Collection<Lb4Key> keys) {
    Set<FrontendId> ids = new HashSet<>();
    keys.forEach(k -> ids.add(FrontendId.of(k)));
    return ids;
  }

  /** What the maps hold now, as this writer knows it. */
  public Map<Lb4Key, Lb4Service> services() {
    return services.written();
  }

  public Map<Long, Lb4Backend> backends() {
    return backends.written();
  }

  public Map<Integer, Lb4ReverseNat> revNat() {
    return revNat.written();
  }

  /** 1. Backends first: a slot may only name a backend that exists. */
  private WriteResult backends(Map<Long, Lb4Backend> desired) {
    return backends.upsert(desired);
  }

  /** 2. Slots 1..count ({@code which} ones): before the master that makes them reachable. */
  private WriteResult serviceSlots(Map<Lb4Key, Lb4Service> desired, Predicate<Lb4Key> which) {
    return services.upsert(desired, key -> key.slot() != 0 && which.test(key));
  }

  /** 3. Reverse NAT before the frontend: the first reply must find its service address. */
  private WriteResult revNat(Map<Integer, Lb4ReverseNat> desired) {
    return revNat.upsert(desired);
  }

  /** 4. Masters last: the slot count switches traffic to the new backend set at once. */
  private WriteResult frontends(Map<Lb4Key, Lb4Service> desired, Predicate<Lb4Key> which) {
    return services.upsert(desired, key -> key.slot() == 0 && which.test(key));
  }

  /** 5. Removed frontends stop taking new connections before anything they use goes away. */
  private WriteResult staleFrontends(Map<Lb4Key, Lb4Service> desired) {
    return services.deleteStale(desired.keySet(), key -> key.slot() == 0);
  }

  private WriteResult staleRevNat(Map<Integer, Lb4ReverseNat> desired) {
    return revNat.deleteStale(desired.keySet());
  }

  /** 7. Slots beyond a (possibly shrunk) master count are unreachable by now. */
  private WriteResult staleServiceSlots(Map<Lb4Key, Lb4Service> desired) {
    return services.deleteStale(desired.keySet(), key -> key.slot() != 0);
  }

  private WriteResult staleBackends(Map<Long, Lb4Backend> desired) {
    return backends.deleteStale(desired.keySet());
  }
}
