package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.MapType;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.Shell;
import org.junit.jupiter.api.Test;

/**
 * An upgraded agent meets maps an older one pinned: a counters map whose layout changed is
 * recreated; a map that holds state (services, connections) is resized with its entries when only
 * its size changed, and never silently replaced.
 */
@KernelTest
class PinnedMapUpgradeKernelTest {
  /** Backend 7, 198.18.0.7:8080/TCP, as lb4_backends holds it (a state entry to carry over). */
  private static final byte[] BACKEND_ID = {7, 0, 0, 0};
  private static final byte[] BACKEND = {(byte) 198, 18, 0, 7, 0x1f, (byte) 0x90, 6, 0};

  /** Pins a map the way an older agent left it (bpftool, outside this agent's own objects). */
  private static void pinOld(Path pin, String type, int key, int value, int entries) {
    pinOld(pin, type, key, value, entries, "anetd_old");
  }

  /** {@code name}: the kernel's name of the map (libbpf names an adopted map after it). */
  private static void pinOld(Path pin, String type, int key, int value, int entries,
      String name) {
    Shell.run(java.util.List.of("bpftool", "map", "create", pin.toString(), "type", type, "key",
        "" + key, "value", "" + value, "entries", "" + entries, "name", name));
  }

  @Test
  void aCountersMapOfAnOlderLayoutIsRecreated(NetnsLab lab) {
    Path pins = lab.bpffsDir("upgrade");
    pinOld(pins.resolve(Datapath.METRICS), "percpu_hash", 4, 16, 1024);

    try (Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins))) {
      BpfMap metrics = dp.map(Datapath.METRICS);
      assertThat(metrics.type()).isEqualTo(MapType.PERCPU_ARRAY);
      assertThat(metrics.maxEntries()).isEqualTo(MetricsKey.SLOTS);
      assertThat(dp.counters()).as("counting starts afresh").isEmpty();
    }
    try (BpfMap pinned = BpfMap.openPinned(pins.resolve(Datapath.METRICS))) {
      assertThat(pinned.type()).as("the new map is what stays pinned")
          .isEqualTo(MapType.PERCPU_ARRAY);
    }
  }

  @Test
  void aStateMapOfAnotherSizeIsResizedWithItsEntries(NetnsLab lab) {
    Path pins = lab.bpffsDir("resize");
    DatapathSettings small = DatapathSettings.defaults().withPinRoot(pins).withLbMapMax(64);
    try (Datapath dp = Datapath.load(small)) {
      dp.map(Datapath.LB4_BACKENDS).update(BACKEND_ID, BACKEND);
    }

    try (Datapath dp = Datapath.load(small.withLbMapMax(128))) {
      BpfMap backends = dp.map(Datapath.LB4_BACKENDS);
      assertThat(backends.maxEntries()).isEqualTo(128);
      assertThat(backends.lookup(BACKEND_ID)).as("the entry is carried over").hasValueSatisfying(
          v -> assertThat(v).containsExactly(BACKEND));
    }
    try (BpfMap pinned = BpfMap.openPinned(pins.resolve(Datapath.LB4_BACKENDS))) {
      assertThat(pinned.maxEntries()).as("the resized map is what stays pinned").isEqualTo(128);
    }
    assertThat(BpfObject.asidePin(pins.resolve(Datapath.LB4_BACKENDS))).doesNotExist();
  }

  @Test
  void mapsMovedAsideToResizeGoBackWhenAnotherMapStopsTheLoad(NetnsLab lab) throws Exception {
    Path pins = lab.bpffsDir("resize-then-stop");
    DatapathSettings small = DatapathSettings.defaults().withPinRoot(pins).withLbMapMax(64);
    Datapath.load(small).close();
    // anetd_lxc comes after the service maps in bpf_lxc.o: they are moved aside before it stops
    java.nio.file.Files.delete(pins.resolve(Datapath.LXC));
    pinOld(pins.resolve(Datapath.LXC), "hash", 4, 24, 16);

    assertThatThrownBy(() -> Datapath.load(small.withLbMapMax(128)))
        .isInstanceOf(BpfException.class).hasMessageContaining(Datapath.LXC);

    try (BpfMap backends = BpfMap.openPinned(pins.resolve(Datapath.LB4_BACKENDS))) {
      assertThat(backends.maxEntries()).as("the old map, back at its pin").isEqualTo(64);
    }
    assertThat(BpfObject.asidePin(pins.resolve(Datapath.LB4_BACKENDS))).doesNotExist();
  }

  @Test
  void anOldMapAnInterruptedResizeLeftAsideGoesBackToItsPin(NetnsLab lab) throws Exception {
    Path pins = lab.bpffsDir("resize-interrupted");
    DatapathSettings settings = DatapathSettings.defaults().withPinRoot(pins).withLbMapMax(64);
    try (Datapath dp = Datapath.load(settings)) {
      dp.map(Datapath.LB4_BACKENDS).update(BACKEND_ID, BACKEND);
    }
    Path pin = pins.resolve(Datapath.LB4_BACKENDS);
    java.nio.file.Files.move(pin, BpfObject.asidePin(pin)); // stopped right after moving it

    try (Datapath dp = Datapath.load(settings)) {
      assertThat(dp.map(Datapath.LB4_BACKENDS).lookup(BACKEND_ID)).isPresent();
    }
    assertThat(BpfObject.asidePin(pin)).doesNotExist();
  }

  @Test
  void bpfPolicyMapMaxSizesThePolicyMap(NetnsLab lab) {
    Path pins = lab.bpffsDir("policy-size");

    try (Datapath dp = Datapath.load(new DatapathSettings(pins, 1024, 1024, 1024, 256))) {
      assertThat(dp.map(Datapath.POLICY).maxEntries()).isEqualTo(256);
    }
  }

  @Test
  void aPinnedPolicyMapOfAnotherSizeIsResizedLikeTheOtherSizedMaps(NetnsLab lab) {
    Path pins = lab.bpffsDir("policy-resize");
    Datapath.load(new DatapathSettings(pins, 1024, 1024, 1024, 256)).close();

    try (Datapath dp = Datapath.load(new DatapathSettings(pins, 1024, 1024, 1024, 512))) {
      assertThat(dp.map(Datapath.POLICY).maxEntries()).isEqualTo(512);
    }
  }

  @Test
  void aStateMapOfAnotherLayoutStopsTheLoadAndIsKept(NetnsLab lab) {
    Path pins = lab.bpffsDir("upgrade-state");
    pinOld(pins.resolve(Datapath.LB4_BACKENDS), "hash", 4, 12, 16); // a 12-byte value

    assertThatThrownBy(() -> Datapath.load(DatapathSettings.defaults().withPinRoot(pins)))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining(Datapath.LB4_BACKENDS)
        .hasMessageContaining("remove the pin to recreate it");
    try (BpfMap pinned = BpfMap.openPinned(pins.resolve(Datapath.LB4_BACKENDS))) {
      assertThat(pinned.maxEntries()).isEqualTo(16);
    }
  }

  @Test
  void theSnatMapIsSizedLikeTheTcpConntrackMapAndOneAnOlderAgentPinnedIsResized(NetnsLab lab) {
    DatapathSettings settings = DatapathSettings.defaults().withPinRoot(lab.bpffsDir("snat"));
    try (Datapath dp = Datapath.load(settings)) {
      assertThat(dp.map(Datapath.SNAT4).maxEntries()).isEqualTo(settings.ctTcpMax());
    }

    Path pins = lab.bpffsDir("snat-upgrade");
    pinOld(pins.resolve(Datapath.SNAT4), "lru_hash", Ct4KeyCodec.SIZE, Snat4EntryCodec.SIZE,
        131072, Datapath.SNAT4); // the fixed size of older agents
    try (Datapath dp = Datapath.load(settings.withPinRoot(pins))) {
      assertThat(dp.map(Datapath.SNAT4).maxEntries()).isEqualTo(settings.ctTcpMax());
    }
  }
}
