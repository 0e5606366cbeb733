package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Mirrors {@code struct metrics_value} in {@code ebpf/include/metrics.h}. The map is per-CPU:
 * {@link #sumPerCpu} adds up the slots a lookup returns.
 */
public final class MetricsValueCodec implements Codec<MetricsValue> {
  public static final MetricsValueCodec INSTANCE = new MetricsValueCodec();
  static final int PACKETS = 0;
  static final int BYTES = 8;
  public static final int SIZE = 16;
  private static final Layout LAYOUT = Layout.of("metrics_value", SIZE,
      field("packets", PACKETS, 8), field("bytes", BYTES, 8));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(MetricsValue v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU64(b, PACKETS, v.packets());
    Bytes.putU64(b, BYTES, v.bytes());
    return b.array();
  }

  @Override
  public MetricsValue decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new MetricsValue(Bytes.getU64(b, PACKETS), Bytes.getU64(b, BYTES));
  }

  /** Sums the per-CPU slots of a lookup result ({@code SIZE} bytes each, already 8-aligned). */
  public MetricsValue sumPerCpu(byte[] perCpu) {
    MetricsValue sum = new MetricsValue(0, 0);
    for (int off = 0; off + SIZE <= perCpu.length; off += SIZE) {
      sum = sum.plus(decode(Arrays.copyOfRange(perCpu, off, off + SIZE)));
    }
    return sum;
  }
}
