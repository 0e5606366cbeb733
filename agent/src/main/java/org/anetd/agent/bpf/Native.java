package org.anetd.agent.bpf;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Loads libbpf.so.1 and libc once per JVM and sends libbpf's messages to the agent's log
 * ({@link LibBpfLog}). A missing libbpf is reported as a {@link BpfException} telling the user
 * which package to install.
 */
final class Native {
  private static volatile Native instance;

  final LibBpfNative bpf;
  final LibcNative libc;
  final Runtime runtime;

  private Native(LibBpfNative bpf, LibcNative libc) {
    this.bpf = bpf;
    this.libc = libc;
    this.runtime = Runtime.getRuntime(bpf);
  }

  static Native get() {
    Native n = instance;
    if (n != null) {
      return n;
    }
    synchronized (Native.class) {
      if (instance == null) {
        try {
          LibBpfNative bpf = LibraryLoader.create(LibBpfNative.class).failImmediately().load("libbpf.so.1");
          LibcNative libc = LibraryLoader.create(LibcNative.class).failImmediately()
              .load(jnr.ffi.Platform.getNativePlatform().getStandardCLibraryName());
          LibBpfLog.install(bpf, libc);
          instance = new Native(bpf, libc);
        } catch (UnsatisfiedLinkError e) {
          throw new BpfException("cannot load libbpf.so.1 (install the Debian package libbpf1): "
              + e.getMessage(), e);
        } catch (RuntimeException e) {
          throw new BpfException("cannot bind libbpf.so.1 through jnr-ffi: " + e.getMessage(), e);
        }
      }
      return instance;
    }
  }

  /** errno saved by the last {@code @SaveError} call on this thread. */
  int lastErrno() {
    return jnr.ffi.LastError.getLastError(runtime);
  }
}
