package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct policy_entry} in {@code ebpf/include/policy.h}. */
public final class PolicyEntryCodec implements Codec<PolicyEntry> {
  public static final PolicyEntryCodec INSTANCE = new PolicyEntryCodec();
  static final int POLICY_SET_ID = 0;
  static final int VERDICT = 4;
  static final int LOG = 5;
  static final int PAD = 6;
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("policy_entry", SIZE,
      field("policy_set_id", POLICY_SET_ID, 4), field("verdict", VERDICT, 1), field("log", LOG, 1),
      field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(PolicyEntry v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, POLICY_SET_ID, v.policySetId());
    Bytes.putU8(b, VERDICT, v.verdict());
    Bytes.putU8(b, LOG, v.log() ? 1 : 0);
    return b.array();
  }

  @Override
  public PolicyEntry decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new PolicyEntry(Bytes.getU32(b, POLICY_SET_ID), Bytes.getU8(b, VERDICT),
        Bytes.getU8(b, LOG) != 0);
  }
}
