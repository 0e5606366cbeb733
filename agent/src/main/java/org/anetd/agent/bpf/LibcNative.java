package org.anetd.agent.bpf;

import jnr.ffi.annotations.SaveError;

/** The few libc calls the bridge needs: fds, network namespaces, interface indexes, euid. */
public interface LibcNative {
  @SaveError
  int open(String path, int flags);

  int close(int fd);

  @SaveError
  int setns(int fd, int nstype);

  int if_nametoindex(String name);

  int geteuid();
}
