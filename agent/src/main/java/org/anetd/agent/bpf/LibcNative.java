package org.anetd.agent.bpf;

import jnr.ffi.Pointer;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The few libc calls the bridge needs: fds, network namespaces, interface indexes, euid, and
 * formatting libbpf's log messages.
 */
public interface LibcNative {
  @SaveError
  int open(String path, int flags);

  int close(int fd);

  @SaveError
  int setns(int fd, int nstype);

  int if_nametoindex(String name);

  int geteuid();

  /** glibc: allocates the formatted string (any length: a verifier log is megabytes). */
  int vasprintf(@Out PointerByReference result, Pointer format, Pointer args);

  void free(Pointer p);
}
