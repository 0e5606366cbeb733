package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct event} in {@code ebpf/include/events.h}. */
public final class EventCodec implements Codec<Event> {
  public static final EventCodec INSTANCE = new EventCodec();
  static final int TIMESTAMP_NS = 0;
  static final int SADDR = 8; // network order
  static final int DADDR = 12; // network order
  static final int SPORT = 16; // network order
  static final int DPORT = 18; // network order
  static final int TYPE = 20;
  static final int PROTO = 21;
  static final int DIRECTION = 22;
  static final int VERDICT = 23;
  static final int ENDPOINT_ID = 24;
  static final int REMOTE_IDENTITY = 28;
  static final int POLICY_SET_ID = 32;
  static final int REASON = 36;
  static final int PAD = 40;
  public static final int SIZE = 48;
  private static final Layout LAYOUT = Layout.of("event", SIZE,
      field("timestamp_ns", TIMESTAMP_NS, 8), field("saddr", SADDR, 4), field("daddr", DADDR, 4),
      field("sport", SPORT, 2), field("dport", DPORT, 2), field("type", TYPE, 1),
      field("proto", PROTO, 1), field("direction", DIRECTION, 1), field("verdict", VERDICT, 1),
      field("endpoint_id", ENDPOINT_ID, 4), field("remote_identity", REMOTE_IDENTITY, 4),
      field("policy_set_id", POLICY_SET_ID, 4), field("reason", REASON, 4), field("pad", PAD, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Event e) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU64(b, TIMESTAMP_NS, e.timestampNs());
    Bytes.putBe32(b, SADDR, e.saddr().bits());
    Bytes.putBe32(b, DADDR, e.daddr().bits());
    Bytes.putBe16(b, SPORT, e.sport());
    Bytes.putBe16(b, DPORT, e.dport());
    Bytes.putU8(b, TYPE, e.type());
    Bytes.putU8(b, PROTO, e.protocol().number());
    Bytes.putU8(b, DIRECTION, e.direction());
    Bytes.putU8(b, VERDICT, e.allowed() ? 1 : 0);
    Bytes.putU32(b, ENDPOINT_ID, e.endpointId());
    Bytes.putU32(b, REMOTE_IDENTITY, e.remoteIdentity());
    Bytes.putU32(b, POLICY_SET_ID, e.policySetId());
    Bytes.putU32(b, REASON, e.reason());
    return b.array();
  }

  @Override
  public Event decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Event(Bytes.getU64(b, TIMESTAMP_NS), new Ipv4(Bytes.getBe32(b, SADDR)),
        new Ipv4(Bytes.getBe32(b, DADDR)), Bytes.getBe16(b, SPORT), Bytes.getBe16(b, DPORT),
        Bytes.getU8(b, TYPE), Protocol.of(Bytes.getU8(b, PROTO)), Bytes.getU8(b, DIRECTION),
        Bytes.getU8(b, VERDICT) != 0, Bytes.getU32(b, ENDPOINT_ID),
        Bytes.getU32(b, REMOTE_IDENTITY), Bytes.getU32(b, POLICY_SET_ID), Bytes.getU32(b, REASON));
  }
}
