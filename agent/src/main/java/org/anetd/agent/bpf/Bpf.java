package org.anetd.agent.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about the running kernel and process that decide whether BPF can work at all. */
public final class Bpf {
  private static volatile int possibleCpus;

  private Bpf() {}

  /** Number of possible CPUs, the stride of per-CPU map values. */
  public static int possibleCpus() {
    if (possibleCpus == 0) {
      possibleCpus = BpfException.check(Native.get().bpf.libbpf_num_possible_cpus(),
          "libbpf_num_possible_cpus", "this machine");
    }
    return possibleCpus;
  }

  public static boolean isRoot() {
    return Native.get().libc.geteuid() == 0;
  }

  /** True when {@code dir} is inside a mounted bpf filesystem (pinning works there). */
  public static boolean isOnBpffs(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    try {
      List<String> mounts = Files.readAllLines(Path.of("/proc/self/mounts"));
      String best = null;
      String bestType = null;
      for (String line : mounts) {
        String[] f = line.split(" ");
        if (f.length < 3) {
          continue;
        }
        String mountPoint = f[1].replace("\\040", " ");
        if (abs.startsWith(Path.of(mountPoint)) && (best == null || mountPoint.length() >= best.length())) {
          best = mountPoint;
          bestType = f[2];
        }
      }
      return "bpf".equals(bestType);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Checks what every BPF operation needs and explains what is missing: root (CAP_BPF and
   * CAP_NET_ADMIN), libbpf.so.1, and a bpffs mount at {@code pinRoot}'s filesystem.
   */
  public static void requireUsable(Path pinRoot) {
    Native.get();
    if (!isRoot()) {
      throw new BpfException("anetd needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN): run it as"
          + " root or give the container privileged: true");
    }
    Path probe = pinRoot;
    while (probe != null && !Files.exists(probe)) {
      probe = probe.getParent();
    }
    if (probe == null || !isOnBpffs(probe)) {
      throw new BpfException("no bpf filesystem at " + pinRoot + ": mount it with"
          + " `mount -t bpf bpffs /sys/fs/bpf` (in a pod: a hostPath volume for /sys/fs/bpf)");
    }
  }
}
