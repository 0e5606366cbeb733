package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct endpoint_policy} in {@code ebpf/include/policy.h}. */
public final class EndpointPolicyCodec implements Codec<EndpointPolicy> {
  public static final EndpointPolicyCodec INSTANCE = new EndpointPolicyCodec();
  static final int IDENTITY = 0;
  static final int FLAGS = 4;
  static final int PAD = 5;
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("endpoint_policy", SIZE,
      field("identity", IDENTITY, 4), field("flags", FLAGS, 1), field("pad", PAD, 3));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(EndpointPolicy v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, IDENTITY, v.identity());
    Bytes.putU8(b, FLAGS, v.flags());
    return b.array();
  }

  @Override
  public EndpointPolicy decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new EndpointPolicy(Bytes.getU32(b, IDENTITY), Bytes.getU8(b, FLAGS));
  }
}
