package org.anetd.agent.bpf;

import java.nio.charset.StandardCharsets;
import jnr.ffi.Pointer;

/** What the kernel says about a map fd (struct bpf_map_info, the fields the agent needs). */
record MapInfo(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
  private static final int INFO_SIZE = 80; // through struct bpf_map_info.btf_value_type_id

  static MapInfo of(int fd, String target) {
    Pointer info = NativeStruct.zeroed(INFO_SIZE);
    Pointer len = NativeStruct.zeroed(4);
    len.putInt(0, INFO_SIZE);
    BpfException.check(Native.get().bpf.bpf_obj_get_info_by_fd(fd, info, len),
        "bpf_obj_get_info_by_fd", target);
    byte[] nameBytes = new byte[16];
    info.get(24, nameBytes, 0, 16);
    int end = 0;
    while (end < 16 && nameBytes[end] != 0) {
      end++;
    }
    return new MapInfo(new String(nameBytes, 0, end, StandardCharsets.UTF_8),
        MapType.of(info.getInt(0)), info.getInt(8), info.getInt(12), info.getInt(16),
        info.getInt(20));
  }
}
