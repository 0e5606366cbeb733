package org.anetd.agent.bpf;

import jnr.ffi.Pointer;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The few libc calls the bridge needs: fds, network namespaces (and their cookies, read from a
 * socket), interface indexes, euid, and formatting libbpf's log messages.
 */
public interface LibcNative {
  @SaveError
  int open(String path, int flags);

  int close(int fd);

  @SaveError
  int setns(int fd, int nstype);

  int if_nametoindex(String name);

  @SaveError
  int socket(int domain, int type, int protocol);

  @SaveError
  int getsockopt(int fd, int level, int optname, Pointer optval, Pointer optlen);

  int geteuid();

  /** glibc: allocates the formatted string (any length: a verifier log is megabytes). */
  int vasprintf(@Out PointerByReference result, Pointer format, Pointer args);

  void free(Pointer p);
}
