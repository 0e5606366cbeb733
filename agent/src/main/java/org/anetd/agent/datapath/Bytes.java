package org.anetd.agent.datapath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Field access for codecs. "be" fields are in network byte order (addresses, ports as on the
 * wire); "host" fields are in the machine's order, as C's plain __u16/__u32/__u64.
 */
final class Bytes {
  private Bytes() {}

  static ByteBuffer writer(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
  }

  static ByteBuffer reader(byte[] bytes, Layout layout) {
    if (bytes.length < layout.size()) {
      throw new IllegalArgumentException(layout.cStruct() + ": " + bytes.length
          + " bytes, expected " + layout.size());
    }
    return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
  }

  static void putBe32(ByteBuffer b, int offset, int value) {
    b.order(ByteOrder.BIG_ENDIAN).putInt(offset, value).order(ByteOrder.nativeOrder());
  }

  static int getBe32(ByteBuffer b, int offset) {
    int v = b.order(ByteOrder.BIG_ENDIAN).getInt(offset);
    b.order(ByteOrder.nativeOrder());
    return v;
  }

  static void putBe16(ByteBuffer b, int offset, int value) {
    b.order(ByteOrder.BIG_ENDIAN).putShort(offset, (short) value).order(ByteOrder.nativeOrder());
  }

  static int getBe16(ByteBuffer b, int offset) {
    int v = b.order(ByteOrder.BIG_ENDIAN).getShort(offset) & 0xffff;
    b.order(ByteOrder.nativeOrder());
    return v;
  }

  static void putU8(ByteBuffer b, int offset, int value) {
    b.put(offset, (byte) value);
  }

  static int getU8(ByteBuffer b, int offset) {
    return b.get(offset) & 0xff;
  }

  static void putU16(ByteBuffer b, int offset, int value) {
    b.putShort(offset, (short) value);
  }

  static int getU16(ByteBuffer b, int offset) {
    return b.getShort(offset) & 0xffff;
  }

  static void putU32(ByteBuffer b, int offset, long value) {
    b.putInt(offset, (int) value);
  }

  static long getU32(ByteBuffer b, int offset) {
    return b.getInt(offset) & 0xffffffffL;
  }

  static void putU64(ByteBuffer b, int offset, long value) {
    b.putLong(offset, value);
  }

  static long getU64(ByteBuffer b, int offset) {
    return b.getLong(offset);
  }
}
