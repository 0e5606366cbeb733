package org.anetd.agent.bpf;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import jnr.ffi.Pointer;

/** What the kernel says about a loaded program (struct bpf_prog_info, the fields we need). */
record ProgramInfo(int id, String name) {
  private static final int INFO_SIZE = 80; // through struct bpf_prog_info.name
  private static final int NAME_OFFSET = 64;
  private static final int NAME_SIZE = 16; // BPF_OBJ_NAME_LEN, NUL included
  private static final int ENOENT = 2;

  /** The program with id {@code id}, or empty when it is gone (unloaded since its id was read). */
  static Optional<ProgramInfo> ofId(int id) {
    Native n = Native.get();
    String target = "program id " + id;
    int fd = n.bpf.bpf_prog_get_fd_by_id(id);
    if (fd == -ENOENT) {
      return Optional.empty();
    }
    BpfException.check(fd, "bpf_prog_get_fd_by_id", target);
    try {
      Pointer info = NativeStruct.zeroed(INFO_SIZE);
      Pointer len = NativeStruct.zeroed(4);
      len.putInt(0, INFO_SIZE);
      BpfException.check(n.bpf.bpf_obj_get_info_by_fd(fd, info, len), "bpf_obj_get_info_by_fd",
          target);
      byte[] nameBytes = new byte[NAME_SIZE];
      info.get(NAME_OFFSET, nameBytes, 0, NAME_SIZE);
      int end = 0;
      while (end < NAME_SIZE && nameBytes[end] != 0) {
        end++;
      }
      return Optional.of(new ProgramInfo(id, new String(nameBytes, 0, end,
          StandardCharsets.UTF_8)));
    } finally {
      n.libc.close(fd);
    }
  }
}
