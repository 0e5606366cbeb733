package org.anetd.agent.bpf;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jnr.ffi.Pointer;

/**
 * Runs work inside a network namespace. setns(2) moves only the calling thread, so the work runs
 * on a fresh thread that enters the namespace and is then discarded: no pooled JVM thread ever
 * comes back in the wrong namespace. tc attachment and interface lookups made there apply there.
 */
public final class NetworkNamespace {
  private static final int O_RDONLY = 0;
  private static final int CLONE_NEWNET = 0x40000000;

  private NetworkNamespace() {}

  /** The bind-mount `ip netns add NAME` creates. */
  public static Path named(String name) {
    return Path.of("/var/run/netns", name);
  }

  public static <T> T call(Path namespace, Callable<T> work) {
    ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "netns-" + namespace.getFileName());
      t.setDaemon(true);
      return t;
    });
    try {
      Future<T> result = thread.submit(() -> {
        enter(namespace);
        return work.call();
      });
      return result.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new BpfException("in network namespace " + namespace + ": " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BpfException("interrupted in network namespace " + namespace, e);
    } finally {
      thread.shutdownNow();
    }
  }

  /**
   * Runs {@code work} in {@code namespace}, or right here on the calling thread when it is null
   * (the agent's own namespace, as in production; tests pass a node namespace).
   */
  public static <T> T callIn(Path namespace, Callable<T> work) {
    if (namespace != null) {
      return call(namespace, work);
    }
    try {
      return work.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The ifindex of {@code ifname} in the calling thread's namespace. */
  public static int ifindex(String ifname) {
    int idx = Native.get().libc.if_nametoindex(ifname);
    if (idx == 0) {
      throw new BpfException("no network interface " + ifname);
    }
    return idx;
  }

  private static final int AF_INET = 2;
  private static final int SOCK_DGRAM = 2;
  private static final int SOL_SOCKET = 1;
  private static final int SO_NETNS_COOKIE = 71;

  /**
   * The cookie of the calling thread's network namespace (SO_NETNS_COOKIE, Linux 5.14+): what
   * bpf_get_netns_cookie() returns for its sockets.
   */
  public static long cookie() {
    Native n = Native.get();
    int fd = n.libc.socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
      throw new BpfException("socket", "netns cookie", -n.lastErrno());
    }
    try {
      Pointer value = NativeStruct.zeroed(8);
      Pointer length = NativeStruct.zeroed(4);
      length.putInt(0, 8);
      if (n.libc.getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, value, length) < 0) {
        throw new BpfException("getsockopt(SO_NETNS_COOKIE)", "netns cookie", -n.lastErrno());
      }
      return value.getLong(0);
    } finally {
      n.libc.close(fd);
    }
  }

  private static void enter(Path namespace) {
    Native n = Native.get();
    int fd = n.libc.open(namespace.toString(), O_RDONLY);
    if (fd < 0) {
      throw new BpfException("open", "network namespace " + namespace, -n.lastErrno());
    }
    try {
      if (n.libc.setns(fd, CLONE_NEWNET) < 0) {
        throw new BpfException("setns", "network namespace " + namespace, -n.lastErrno());
      }
    } finally {
      n.libc.close(fd);
    }
  }
}
