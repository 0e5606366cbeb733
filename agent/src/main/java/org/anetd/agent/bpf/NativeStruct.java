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

  /**
   * bpf_obj_get_info_by_fd into a zeroed struct of {@code size} bytes (a prefix of the kernel's
   * bpf_map_info / bpf_prog_info / bpf_link_info: it fills what fits).
   */
  static Pointer objInfo(int fd, int size, String target) {
    Pointer info = zeroed(size);
    Pointer len = zeroed(4);
    len.putInt(0, size);
    BpfException.check(Native.get().bpf.bpf_obj_get_info_by_fd(fd, info, len),
        "bpf_obj_get_info_by_fd", target);
    return info;
  }

  /** The NUL-terminated string in the {@code size} bytes at {@code offset} (an object's name). */
  static String cString(Pointer p, int offset, int size) {
    byte[] bytes = new byte[size];
    p.get(offset, bytes, 0, size);
    int end = 0;
    while (end < size && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, 0, end, java.nio.charset.StandardCharsets.UTF_8);
  }

  static Pointer copyOf(byte[] bytes) {
    Pointer p = zeroed(bytes.length);
    p.put(0, bytes, 0, bytes.length);
    return p;
  }
}
