package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/**
 * Mirrors {@code struct policy_key} in {@code ebpf/include/policy.h}. Every field after prefixlen
 * is big endian: an LPM trie compares key bytes in order.
 */
public final class PolicyKeyCodec implements Codec<PolicyKey> {
  public static final PolicyKeyCodec INSTANCE = new PolicyKeyCodec();
  static final int PREFIXLEN = 0; // host order
  static final int ENDPOINT_ID = 4; // big endian
  static final int IDENTITY = 8; // big endian
  static final int DIRECTION = 12;
  static final int PROTO = 13;
  static final int DPORT = 14; // network order
  public static final int SIZE = 16;
  private static final Layout LAYOUT = Layout.of("policy_key", SIZE,
      field("prefixlen", PREFIXLEN, 4), field("endpoint_id", ENDPOINT_ID, 4),
      field("identity", IDENTITY, 4), field("direction", DIRECTION, 1), field("proto", PROTO, 1),
      field("dport", DPORT, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(PolicyKey k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, PREFIXLEN, k.prefixLength());
    Bytes.putBe32(b, ENDPOINT_ID, (int) k.endpointId());
    Bytes.putBe32(b, IDENTITY, (int) k.identity());
    Bytes.putU8(b, DIRECTION, k.direction());
    Bytes.putU8(b, PROTO, k.protocol().number());
    Bytes.putBe16(b, DPORT, k.port());
    return b.array();
  }

  @Override
  public PolicyKey decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new PolicyKey((int) Bytes.getU32(b, PREFIXLEN),
        Bytes.getBe32(b, ENDPOINT_ID) & 0xffffffffL, Bytes.getBe32(b, IDENTITY) & 0xffffffffL,
        Bytes.getU8(b, DIRECTION), Protocol.of(Bytes.getU8(b, PROTO)), Bytes.getBe16(b, DPORT));
  }
}
