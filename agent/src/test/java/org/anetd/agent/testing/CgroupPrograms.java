package org.anetd.agent.testing;

import java.nio.file.Path;
import java.util.List;

/** What `bpftool cgroup show` reports attached to a cgroup directory. */
public final class CgroupPrograms {
  private CgroupPrograms() {}

  /** The `bpftool cgroup show` output for {@code cgroup}. */
  public static String show(Path cgroup) {
    return Shell.exec(List.of("bpftool", "cgroup", "show", cgroup.toString()), 10).output();
  }

  /** bpf_sock's programs in {@link #show} output (names cut at 15 characters by the kernel). */
  public static long socketPrograms(String show) {
    return show.lines().filter(l -> l.contains("sock4_") || l.contains("sock6_") || l.contains("sock_release")).count();
  }

  /** bpf_sock's programs attached to {@code cgroup}. */
  public static long socketPrograms(Path cgroup) {
    return socketPrograms(show(cgroup));
  }
}
