package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/**
 * The key of {@code anetd_metrics} ({@code ebpf/include/metrics.h}): a per-CPU array whose
 * __u32 index is the counter's slot, {@link MetricsKey#slot()}.
 */
public final class MetricsKeyCodec implements Codec<MetricsKey> {
  public static final MetricsKeyCodec INSTANCE = new MetricsKeyCodec();
  public static final int SIZE = 4;
  private static final Layout LAYOUT = Layout.of("metrics_slot", SIZE, field("slot", 0, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(MetricsKey k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, 0, k.slot());
    return b.array();
  }

  @Override
  public MetricsKey decode(byte[] bytes) {
    return MetricsKey.ofSlot((int) Bytes.getU32(Bytes.reader(bytes, LAYOUT), 0));
  }
}
