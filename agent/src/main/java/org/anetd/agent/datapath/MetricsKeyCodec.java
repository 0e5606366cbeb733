package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct metrics_key} in {@code ebpf/include/metrics.h}. */
public final class MetricsKeyCodec implements Codec<MetricsKey> {
  public static final MetricsKeyCodec INSTANCE = new MetricsKeyCodec();
  static final int REASON = 0;
  static final int DIR = 1;
  static final int PAD = 2;
  public static final int SIZE = 4;
  private static final Layout LAYOUT = Layout.of("metrics_key", SIZE,
      field("reason", REASON, 1), field("dir", DIR, 1), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(MetricsKey k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU8(b, REASON, k.reason());
    Bytes.putU8(b, DIR, k.direction());
    return b.array();
  }

  @Override
  public MetricsKey decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new MetricsKey(Bytes.getU8(b, REASON), Bytes.getU8(b, DIR));
  }
}
