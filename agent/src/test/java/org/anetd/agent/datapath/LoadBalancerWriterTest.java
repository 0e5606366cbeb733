package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.anetd.agent.bpf.BpfException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load-balancer maps are written in a safe order: after every single element operation, every
 * reachable frontend slot names an existing backend and every frontend has its reverse NAT entry.
 */
class LoadBalancerWriterTest {
  private static final Ipv4 VIP = Ipv4.parse("198.19.0.10");
  private static final Ipv4 VIP2 = Ipv4.parse("198.19.0.11");

  private InMemoryMapBackend servicesMap;
  private InMemoryMapBackend backendsMap;
  private InMemoryMapBackend revNatMap;
  private final List<String> violations = new ArrayList<>();

  @BeforeEach
  void maps() {
    servicesMap = new InMemoryMapBackend("lb4_services", 65536).afterEachOperation(this::check);
    backendsMap = new InMemoryMapBackend("lb4_backends", 65536).afterEachOperation(this::check);
    revNatMap = new InMemoryMapBackend("lb4_reverse_nat", 65536).afterEachOperation(this::check);
  }

  /** The invariant the datapath relies on, checked against the raw map contents. */
  private void check(String operation) {
    Map<Lb4Key, Lb4Service> services = decode(servicesMap, Lb4KeyCodec.INSTANCE,
        Lb4ServiceCodec.INSTANCE);
    Map<Long, Lb4Backend> backends = decode(backendsMap, U32Codec.INSTANCE,
        Lb4BackendCodec.INSTANCE);
    Map<Integer, Lb4ReverseNat> revNat = decode(revNatMap, U16Codec.INSTANCE,
        Lb4ReverseNatCodec.INSTANCE);
    services.forEach((key, master) -> {
      if (key.slot() != 0) {
        return;
      }
      if (!revNat.containsKey(master.revNatId())) {
        violations.add("after " + operation + ": " + key + " has no reverse NAT");
      }
      for (int s = 1; s <= master.count(); s++) {
        Lb4Service slot = services.get(key.withSlot(s));
        if (slot == null) {
          violations.add("after " + operation + ": " + key + " slot " + s + " missing");
        } else if (!backends.containsKey(slot.backendId())) {
          violations.add("after " + operation + ": " + key + " slot " + s + " names missing backend "
              + slot.backendId());
        }
      }
    });
  }

  private static <K, V> Map<K, V> decode(InMemoryMapBackend m, Codec<K> k, Codec<V> v) {
    Map<K, V> out = new HashMap<>();
    m.entries().forEach(e -> out.put(k.decode(e.key()), v.decode(e.value())));
    return out;
  }

  private LoadBalancerWriter writer() {
    return new LoadBalancerWriter(servicesMap, backendsMap, revNatMap);
  }

  /** A desired state: one frontend per VIP with the given backend ids (backend i = 198.18.0.i). */
  private record Desired(Map<Lb4Key, Lb4Service> services, Map<Long, Lb4Backend> backends,
      Map<Integer, Lb4ReverseNat> revNat) {}

  private static Desired desired(Map<Ipv4, long[]> frontends) {
    Map<Lb4Key, Lb4Service> services = new HashMap<>();
    Map<Long, Lb4Backend> backends = new HashMap<>();
    Map<Integer, Lb4ReverseNat> revNat = new HashMap<>();
    int revNatId = 0;
    for (Map.Entry<Ipv4, long[]> f : new java.util.TreeMap<>(frontends).entrySet()) {
      revNatId++;
      Lb4Key master = new Lb4Key(f.getKey(), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
      long[] ids = f.getValue();
      services.put(master, Lb4Service.master(ids.length, revNatId,
          ids.length == 0 ? Lb4Service.F_NO_BACKENDS : 0, 0));
      for (int s = 0; s < ids.length; s++) {
        services.put(master.withSlot(s + 1), Lb4Service.slot(ids[s], revNatId, 0));
        backends.put(ids[s], new Lb4Backend(new Ipv4(0xC6120000 | (int) ids[s]), 8080,
            Protocol.TCP, Lb4Backend.STATE_ACTIVE));
      }
      revNat.put(revNatId, new Lb4ReverseNat(f.getKey(), 80));
    }
    return new Desired(services, backends, revNat);
  }

  private static LoadBalancerWriter.Result write(LoadBalancerWriter w, Desired d) {
    return w.write(d.services(), d.backends(), d.revNat());
  }

  /** The changes from one desired state to the next, as the incremental compiler gives them. */
  private static LbChanges changes(Desired from, Desired to) {
    return new LbChanges(to.services(), removed(from.services(), to.services()), to.backends(),
        removed(from.backends(), to.backends()), to.revNat(), removed(from.revNat(), to.revNat()));
  }

  private static <K> java.util.Set<K> removed(Map<K, ?> from, Map<K, ?> to) {
    java.util.Set<K> gone = new java.util.HashSet<>(from.keySet());
    gone.removeAll(to.keySet());
    return gone;
  }

  @Test
  void appliedChangesKeepEveryIntermediateStateConsistent() {
    LoadBalancerWriter w = writer();
    Desired one = desired(Map.of(VIP, new long[] {1, 2, 3}, VIP2, new long[] {4}));
    Desired scaledDown = desired(Map.of(VIP, new long[] {1}, VIP2, new long[] {4}));
    Desired replaced = desired(Map.of(VIP, new long[] {5, 6}, VIP2, new long[] {4}));
    Desired deleted = desired(Map.of(VIP2, new long[] {4}));
    w.apply(changes(desired(Map.of()), one));

    LoadBalancerWriter.Result down = w.apply(changes(one, scaledDown));
    w.apply(changes(scaledDown, replaced));
    w.apply(changes(replaced, deleted));

    assertThat(violations).isEmpty();
    assertThat(down.removedBackends()).containsOnlyKeys(2L, 3L);
    assertThat(w.services()).isEqualTo(deleted.services());
    assertThat(w.backends()).isEqualTo(deleted.backends());
    assertThat(w.revNat()).isEqualTo(deleted.revNat());
  }

  /** Near bpf-lb-map-max: A grows into the room B leaves (the compiler dropped B for it). */
  private static final Desired A_AND_B = desired(Map.of(VIP, new long[] {1, 2},
      VIP2, new long[] {3, 4}));
  private static final Desired A_GROWN = desired(Map.of(VIP, new long[] {1, 2, 5, 6}));

  @Test
  void aFullWriteFreesTheEntriesOfRemovedFrontendsBeforeItAddsAny() {
    servicesMap = new InMemoryMapBackend("lb4_services", 7).afterEachOperation(this::check);
    LoadBalancerWriter w = writer();
    write(w, A_AND_B); // 6 of 7 entries

    write(w, A_GROWN); // 5 entries, but 8 if A's new slots came before B's removal

    assertThat(w.services()).isEqualTo(A_GROWN.services());
    assertThat(violations).isEmpty();
  }

  @Test
  void appliedChangesFreeTheEntriesOfRemovedFrontendsBeforeTheyAddAny() {
    servicesMap = new InMemoryMapBackend("lb4_services", 7).afterEachOperation(this::check);
    LoadBalancerWriter w = writer();
    w.apply(changes(desired(Map.of()), A_AND_B));

    w.apply(changes(A_AND_B, A_GROWN));

    assertThat(w.services()).isEqualTo(A_GROWN.services());
    assertThat(w.revNat()).isEqualTo(A_GROWN.revNat());
    assertThat(violations).isEmpty();
  }

  /** Near bpf-lb-map-max: A shrinks from 3 backends to 1 while B grows from 1 to 3 (7 entries). */
  private static final Desired A_WIDE = desired(Map.of(VIP, new long[] {1, 2, 3},
      VIP2, new long[] {4}));
  private static final Desired B_WIDE = desired(Map.of(VIP, new long[] {1},
      VIP2, new long[] {4, 5, 6}));

  @Test
  void aFullWriteCompletesShrinkingFrontendsBeforeItAddsSlotsForGrowingOnes() {
    servicesMap = new InMemoryMapBackend("lb4_services", 7).afterEachOperation(this::check);
    LoadBalancerWriter w = writer();
    write(w, A_WIDE); // 6 of 7

    write(w, B_WIDE); // 6, but 8 if B's new slots came before A's old ones went

    assertThat(w.services()).isEqualTo(B_WIDE.services());
    assertThat(violations).isEmpty();
  }

  @Test
  void appliedChangesCompleteShrinkingFrontendsBeforeTheyAddSlotsForGrowingOnes() {
    servicesMap = new InMemoryMapBackend("lb4_services", 7).afterEachOperation(this::check);
    LoadBalancerWriter w = writer();
    w.apply(changes(desired(Map.of()), A_WIDE));

    w.apply(changes(A_WIDE, B_WIDE));

    assertThat(w.services()).isEqualTo(B_WIDE.services());
    assertThat(violations).isEmpty();
  }

  @Test
  void appliedChangesEqualToTheMapsWriteNothing() {
    LoadBalancerWriter w = writer();
    Desired d = desired(Map.of(VIP, new long[] {1, 2}));
    w.apply(changes(desired(Map.of()), d));

    LoadBalancerWriter.Result again = w.apply(changes(d, d));

    assertThat(again.writes().changes()).isZero();
  }

  @Test
  void newServiceBecomesReachableOnlyWhenComplete() {
    LoadBalancerWriter.Result r = write(writer(), desired(Map.of(VIP, new long[] {1, 2, 3})));

    assertThat(violations).isEmpty();
    assertThat(r.writes().created()).isEqualTo(4 + 3 + 1);
    assertThat(servicesMap.size()).isEqualTo(4);
  }

  @Test
  void scalingDownNeverLeavesASlotPointingNowhere() {
    LoadBalancerWriter w = writer();
    write(w, desired(Map.of(VIP, new long[] {1, 2, 3})));

    LoadBalancerWriter.Result r = write(w, desired(Map.of(VIP, new long[] {1})));

    assertThat(violations).isEmpty();
    assertThat(r.removedBackends()).containsOnlyKeys(2L, 3L);
    assertThat(servicesMap.size()).isEqualTo(2);
    assertThat(backendsMap.size()).isEqualTo(1);
  }

  @Test
  void replacingEveryBackendKeepsTheServiceConsistentThroughout() {
    LoadBalancerWriter w = writer();
    write(w, desired(Map.of(VIP, new long[] {1, 2})));

    write(w, desired(Map.of(VIP, new long[] {3, 4, 5})));

    assertThat(violations).isEmpty();
    assertThat(w.backends().keySet()).containsExactlyInAnyOrder(3L, 4L, 5L);
  }

  @Test
  void deletingAServiceRemovesItsFrontendBeforeItsBackends() {
    LoadBalancerWriter w = writer();
    write(w, desired(Map.of(VIP, new long[] {1, 2}, VIP2, new long[] {3})));

    write(w, desired(Map.of(VIP2, new long[] {3})));

    assertThat(violations).isEmpty();
    assertThat(w.services().keySet()).allMatch(k -> k.address().equals(VIP2));
    assertThat(revNatMap.size()).isEqualTo(1);
  }

  @Test
  void rewritingTheSameDesiredStateWritesNothing() {
    LoadBalancerWriter w = writer();
    Desired d = desired(Map.of(VIP, new long[] {1, 2}));
    write(w, d);

    LoadBalancerWriter.Result again = write(w, d);

    assertThat(again.writes().changes()).isZero();
    assertThat(again.writes().noop()).isEqualTo(3 + 2 + 1);
  }

  @Test
  void aRestartedWriterAdoptsTheMapsAndRemovesOnlyStaleEntries() {
    write(writer(), desired(Map.of(VIP, new long[] {1, 2}, VIP2, new long[] {3})));

    LoadBalancerWriter restarted = writer();
    LoadBalancerWriter.Result r = write(restarted, desired(Map.of(VIP, new long[] {1, 2})));

    assertThat(r.writes().created()).isZero();
    assertThat(r.writes().updated()).isZero();
    assertThat(r.writes().deleted()).isEqualTo(2 + 1 + 1);
    assertThat(r.removedBackends()).containsOnlyKeys(3L);
    assertThat(violations).isEmpty();
  }

  @Test
  void aFailedWriteIsRetriedFromWhatTheMapReallyHolds() {
    LoadBalancerWriter w = writer();
    Desired d = desired(Map.of(VIP, new long[] {1, 2, 3}));
    backendsMap.failAfter(1);

    assertThatThrownBy(() -> write(w, d)).isInstanceOf(BpfException.class);
    LoadBalancerWriter.Result retry = write(w, d);

    assertThat(violations).isEmpty();
    assertThat(retry.writes().created()).isEqualTo(2 + 3 + 1 + 1);
    assertThat(w.services()).isEqualTo(d.services());
  }

  @Test
  void serviceWithoutBackendsKeepsARejectingFrontend() {
    LoadBalancerWriter w = writer();

    write(w, desired(Map.of(VIP, new long[] {})));

    Lb4Service master = w.services().get(new Lb4Key(VIP, 80, Protocol.TCP, 0, 0));
    assertThat(master.count()).isZero();
    assertThat(master.flags() & Lb4Service.F_NO_BACKENDS).isNotZero();
  }

  @Test
  void undecodableEntriesAreDeletedOnAdoption() {
    byte[] badBackend = new byte[8];
    badBackend[6] = (byte) 99; // protocol 99 is not one the datapath writes
    backendsMap.putRaw(U32Codec.INSTANCE.encode(7L), badBackend);

    LoadBalancerWriter w = writer();

    assertThat(w.backends()).isEmpty();
    assertThat(backendsMap.size()).isZero();
  }
}
