package org.anetd.agent.bpf;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/** Zero-filled native memory for a libbpf opts struct whose first field is {@code size_t sz}. */
final class NativeStruct {
  private NativeStruct() {}

  static Pointer opts(int size) {
    Pointer p = Memory.allocateDirect(Native.get().runtime, size, true);
    p.putLong(0, size);
    return p;
  }

  static Pointer zeroed(long size) {
    return Memory.allocateDirect(Native.get().runtime, (int) Math.max(size, 1), true);
  }

  static Pointer copyOf(byte[] bytes) {
    Pointer p = zeroed(bytes.length);
    p.put(0, bytes, 0, bytes.length);
    return p;
  }
}
