package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.anetd.agent.datapath.Event;
import org.anetd.agent.datapath.EventCodec;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.Packets;
import org.junit.jupiter.api.Test;

/** The libbpf bridge against the real kernel: lifecycle, map operations, test runs, ring buffer. */
@KernelTest
class BridgeKernelTest {
  private static final int TC_ACT_OK = 0;
  private static final int TC_ACT_SHOT = 2;

  private static BpfObject bridgeObject(NetnsLab lab, Path pins, int verdict) {
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("tests/bridge_test.o"));
    lab.onClose(obj::close);
    return obj.setRodataU32("verdict", verdict).pinMapsUnder(pins).load();
  }

  private static long u64(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getLong();
  }

  private static byte[] u32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
  }

  @Test
  void testRunReturnsTheVerdictSetThroughRodata(NetnsLab lab) {
    BpfObject obj = bridgeObject(lab, lab.bpffsDir("rodata"), TC_ACT_SHOT);

    BpfProgram.TestRun run = obj.program("count_and_emit")
        .testRun(Packets.udp4("198.18.0.1", 1000, "198.18.0.2", 53, 16), 1);

    assertThat(run.retval()).isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void programCountsEveryRepetitionInAnArrayMap(NetnsLab lab) {
    BpfObject obj = bridgeObject(lab, lab.bpffsDir("count"), TC_ACT_OK);

    obj.program("count_and_emit").testRun(Packets.udp4("198.18.0.1", 1, "198.18.0.2", 2, 0), 7);

    assertThat(u64(obj.map("runs").lookup(u32(0)).orElseThrow())).isEqualTo(7);
  }

  @Test
  void ringBufferDeliversEventsToTheJavaCallback(NetnsLab lab) {
    BpfObject obj = bridgeObject(lab, lab.bpffsDir("ringbuf"), TC_ACT_OK);
    List<Event> events = new ArrayList<>();
    byte[] packet = Packets.udp4("198.18.0.1", 1, "198.18.0.2", 2, 10);

    try (RingBuffer rb = RingBuffer.open(obj.map("anetd_events"),
        r -> events.add(EventCodec.INSTANCE.decode(r)))) {
      obj.program("count_and_emit").testRun(packet, 3);
      int consumed = rb.poll(1000);

      assertThat(consumed).isEqualTo(3);
    }
    assertThat(events).hasSize(3)
        .allSatisfy(e -> {
          assertThat(e.type()).isEqualTo(Event.TYPE_TRACE);
          assertThat(e.reason()).isEqualTo(packet.length);
        });
  }

  @Test
  void pinnedMapsAreSharedWithTheNextObjectLoadedOverThem(NetnsLab lab) {
    Path pins = lab.bpffsDir("shared");
    BpfObject first = bridgeObject(lab, pins, TC_ACT_OK);
    first.program("count_and_emit").testRun(Packets.udp4("198.18.0.1", 1, "198.18.0.2", 2, 0), 5);
    first.close();

    BpfObject second = bridgeObject(lab, pins, TC_ACT_OK);
    second.program("count_and_emit").testRun(Packets.udp4("198.18.0.1", 1, "198.18.0.2", 2, 0), 2);

    assertThat(Files.exists(pins.resolve("runs"))).isTrue();
    assertThat(u64(second.map("runs").lookup(u32(0)).orElseThrow())).isEqualTo(7);
  }

  @Test
  void pinnedArrayOfAnotherSizeIsReportedBeforeLoad(NetnsLab lab) {
    // hash maps of another size are resized at load (PinnedMapUpgradeKernelTest); an array's
    // entries are indexes, so one of another size is reported instead
    Path pins = lab.bpffsDir("mismatch");
    bridgeObject(lab, pins, TC_ACT_OK);
    BpfObject second = BpfObject.openFile(EbpfObjects.path("tests/bridge_test.o"));
    lab.onClose(second::close);
    second.setMaxEntries("runs", 2).pinMapsUnder(pins);

    assertThatThrownBy(second::load)
        .isInstanceOf(BpfException.class)
        .hasMessageContaining(pins.resolve("runs").toString())
        .hasMessageContaining("max=1")
        .hasMessageContaining("max=2");
  }

  @Test
  void openPinnedMapReadsItsShapeFromTheKernel(NetnsLab lab) {
    Path pins = lab.bpffsDir("openpinned");
    bridgeObject(lab, pins, TC_ACT_OK);

    try (BpfMap runs = BpfMap.openPinned(pins.resolve("runs"))) {
      assertThat(runs.type()).isEqualTo(MapType.ARRAY);
      assertThat(runs.keySize()).isEqualTo(4);
      assertThat(runs.valueSize()).isEqualTo(8);
      assertThat(runs.maxEntries()).isEqualTo(1);
      assertThat(runs.name()).isEqualTo("runs");
    }
  }

  @Test
  void errorsNameTheOperationTheMapAndTheErrno(NetnsLab lab) {
    BpfObject obj = bridgeObject(lab, lab.bpffsDir("errors"), TC_ACT_OK);
    BpfMap runs = obj.map("runs");

    assertThatThrownBy(() -> runs.update(u32(0), new byte[8], BpfMap.UpdateFlag.NOEXIST))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("bpf_map_update_elem")
        .hasMessageContaining("map runs")
        .hasMessageContaining("EEXIST")
        .satisfies(e -> assertThat(((BpfException) e).errno()).isEqualTo(17));
  }

  @Test
  void missingProgramIsNamedWithTheOnesThatExist(NetnsLab lab) {
    BpfObject obj = bridgeObject(lab, lab.bpffsDir("noprog"), TC_ACT_OK);

    assertThatThrownBy(() -> obj.program("nope"))
        .hasMessageContaining("no program nope")
        .hasMessageContaining("count_and_emit");
  }
}
