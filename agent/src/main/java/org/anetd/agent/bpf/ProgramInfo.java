package org.anetd.agent.bpf;

import java.util.Optional;
import jnr.ffi.Pointer;

/** What the kernel says about a loaded program (struct bpf_prog_info, the fields we need). */
public record ProgramInfo(int id, String name) {
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
      Pointer info = NativeStruct.objInfo(fd, INFO_SIZE, target);
      return Optional.of(new ProgramInfo(id, NativeStruct.cString(info, NAME_OFFSET, NAME_SIZE)));
    } finally {
      n.libc.close(fd);
    }
  }
}
