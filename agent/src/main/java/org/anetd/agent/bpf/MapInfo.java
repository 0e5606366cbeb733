package org.anetd.agent.bpf;

import jnr.ffi.Pointer;

/** What the kernel says about a map fd (struct bpf_map_info, the fields the agent needs). */
record MapInfo(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
  private static final int INFO_SIZE = 80; // through struct bpf_map_info.btf_value_type_id

  static MapInfo of(int fd, String target) {
    Pointer info = NativeStruct.objInfo(fd, INFO_SIZE, target);
    return new MapInfo(NativeStruct.cString(info, 24, 16), MapType.of(info.getInt(0)),
        info.getInt(8), info.getInt(12), info.getInt(16), info.getInt(20));
  }
}
