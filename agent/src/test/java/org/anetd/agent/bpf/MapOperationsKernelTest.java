package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4BackendCodec;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/** Single and batch operations on the datapath's own maps (hash, LPM trie, per-CPU). */
@KernelTest
class MapOperationsKernelTest {

  private static BpfObject lxc(NetnsLab lab) {
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(obj::close);
    return obj.setMaxEntries("anetd_lb4_backends", 4096).pinMapsUnder(lab.bpffsDir("maps")).load();
  }

  private static byte[] id(int id) {
    return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt(id)
        .array();
  }

  private static byte[] backend(int i) {
    return Lb4BackendCodec.INSTANCE.encode(new Lb4Backend(new Ipv4(0xC6120000 | i), 8080,
        Protocol.TCP, Lb4Backend.STATE_ACTIVE));
  }

  @Test
  void singleUpdateLookupDeleteRoundTrip(NetnsLab lab) {
    BpfMap backends = lxc(lab).map("anetd_lb4_backends");

    backends.update(id(1), backend(1));

    assertThat(backends.lookup(id(1))).hasValueSatisfying(v ->
        assertThat(Lb4BackendCodec.INSTANCE.decode(v).address()).isEqualTo(Ipv4.parse("198.18.0.1")));
    assertThat(backends.delete(id(1))).isTrue();
    assertThat(backends.delete(id(1))).isFalse();
    assertThat(backends.lookup(id(1))).isEmpty();
  }

  @Test
  void batchUpdateThenBatchLookupSeesEveryEntry(NetnsLab lab) {
    BpfMap backends = lxc(lab).map("anetd_lb4_backends");
    List<byte[]> keys = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    IntStream.rangeClosed(1, 3000).forEach(i -> {
      keys.add(id(i));
      values.add(backend(i));
    });

    assertThat(backends.updateBatch(keys, values)).isEqualTo(3000);

    List<BpfMap.Entry> dumped = backends.lookupBatch(512);
    assertThat(dumped).hasSize(3000);
    assertThat(backends.keys()).hasSize(3000);
  }

  @Test
  void batchDeleteToleratesKeysThatAreAlreadyGone(NetnsLab lab) {
    BpfMap backends = lxc(lab).map("anetd_lb4_backends");
    backends.updateBatch(List.of(id(1), id(2), id(3)), List.of(backend(1), backend(2), backend(3)));
    backends.delete(id(2));

    int deleted = backends.deleteBatch(List.of(id(1), id(2), id(3)));

    assertThat(deleted).isEqualTo(2);
    assertThat(backends.keys()).isEmpty();
  }

  @Test
  void lpmTrieTakesBatchWritesOneByOneAndMatchesLongestPrefix(NetnsLab lab) {
    BpfMap ipcache = lxc(lab).map("anetd_ipcache4");
    var codec = Ipcache4KeyCodec.INSTANCE;
    var values = Ipcache4ValueCodec.INSTANCE;

    ipcache.updateBatch(
        List.of(codec.encode(new Ipcache4Key(0, Ipv4.ANY)),
            codec.encode(new Ipcache4Key(16, Ipv4.parse("198.18.0.0")))),
        List.of(values.encode(new Ipcache4Value(2, Ipv4.ANY, 0)),
            values.encode(new Ipcache4Value(300, Ipv4.ANY, 0))));

    byte[] inside = codec.encode(Ipcache4Key.host(Ipv4.parse("198.18.7.7")));
    byte[] outside = codec.encode(Ipcache4Key.host(Ipv4.parse("8.8.8.8")));
    assertThat(values.decode(ipcache.lookup(inside).orElseThrow()).identity()).isEqualTo(300);
    assertThat(values.decode(ipcache.lookup(outside).orElseThrow()).identity()).isEqualTo(2);
  }

  @Test
  void perCpuValuesCarryOneSlotPerPossibleCpu(NetnsLab lab) {
    BpfMap metrics = lxc(lab).map("anetd_metrics");

    assertThat(metrics.type()).isEqualTo(MapType.PERCPU_ARRAY);
    assertThat(metrics.valueBufferSize()).isEqualTo(16 * Bpf.possibleCpus());
  }
}
