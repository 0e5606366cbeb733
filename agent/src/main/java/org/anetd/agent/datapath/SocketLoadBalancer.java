package org.anetd.agent.datapath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.CgroupAttachment;
import org.anetd.agent.bpf.CgroupAttachment.Hook;

/**
 * Socket-level load balancing (bpf-lb-sock): bpf_sock's connect4, getpeername4 and sock_release
 * programs linked to a cgroup v2 directory (the node's cgroup root: every process of the node,
 * in pods and in the host namespace). The links are pinned under the pin root, so they outlive the agent like the
 * tc programs do; a restarted agent adopts them and swaps in its programs without a gap, and
 * disabling detaches what an earlier agent left.
 *
 * <p>Without it, or for what it leaves alone, bpf_lxc translates per packet, so turning it on or
 * off never breaks service traffic.
 */
public final class SocketLoadBalancer {
  private final Path pinDir;
  private final List<Link> links;
  private final BpfMap sockRev;

  private record Link(String pin, Hook hook, BpfProgram program) {}

  /**
   * The programs of one bpf_sock object and its {@code anetd_lb4_sock_rev}. Links are made in
   * list order and removed in reverse: sock_release is in place before connect4 writes an entry
   * (every entry has its delete), and is the last to go.
   */
  public SocketLoadBalancer(Path pinDir, BpfProgram connect, BpfProgram getpeername,
      BpfProgram release, BpfMap sockRev) {
    this.pinDir = pinDir;
    this.links = List.of(new Link("sock_release", Hook.INET_SOCK_RELEASE, release),
        new Link("sock4_connect", Hook.INET4_CONNECT, connect),
        new Link("sock4_getpeername", Hook.INET4_GETPEERNAME, getpeername));
    this.sockRev = sockRev;
  }

  /**
   * Links the programs to {@code cgroup}: a pinned link already there is updated in place; one
   * pinned on another cgroup (the root moved) is detached first.
   */
  public void enable(Path cgroup) {
    try {
      Files.createDirectories(pinDir);
    } catch (IOException e) {
      throw new BpfException("create link pin directory " + pinDir + ": " + e.getMessage(), e);
    }
    for (Link l : links) {
      Path pin = pinDir.resolve(l.pin());
      CgroupAttachment.Target wanted = CgroupAttachment.Target.of(cgroup, l.hook());
      Optional<CgroupAttachment> existing = CgroupAttachment.pinned(pin);
      if (existing.isPresent()) {
        try (CgroupAttachment a = existing.get()) {
          if (a.target().equals(wanted)) {
            a.update(l.program());
            continue;
          }
          a.detach();
        }
        deletePin(pin);
      }
      try (CgroupAttachment a = CgroupAttachment.attach(cgroup, l.hook(), l.program())) {
        a.pin(pin);
      }
    }
  }

  /**
   * Detaches the pinned links, this agent's or an earlier one's, and empties anetd_lb4_sock_rev
   * (with sock_release gone nothing would delete what is left). Whether there were any links.
   */
  public boolean disable() {
    boolean any = false;
    for (Link l : reversed(links)) {
      Path pin = pinDir.resolve(l.pin());
      Optional<CgroupAttachment> existing = CgroupAttachment.pinned(pin);
      if (existing.isPresent()) {
        try (CgroupAttachment a = existing.get()) {
          a.detach();
        }
        deletePin(pin);
        any = true;
      }
    }
    for (byte[] cookie : sockRev.keys()) {
      sockRev.delete(cookie); // one at a time: a socket may close (and delete its own) meanwhile
    }
    return any;
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> r = new java.util.ArrayList<>(list);
    java.util.Collections.reverse(r);
    return r;
  }

  /** Whether links are pinned (socket load balancing is on for some cgroup). */
  public boolean enabled() {
    return links.stream().anyMatch(l -> Files.exists(pinDir.resolve(l.pin())));
  }

  private static void deletePin(Path pin) {
    try {
      Files.deleteIfExists(pin);
    } catch (IOException e) {
      throw new BpfException("unpin " + pin + ": " + e.getMessage(), e);
    }
  }

  /**
   * The mount point of the cgroup v2 hierarchy in a /proc/self/mountinfo text: /sys/fs/cgroup on
   * a unified host, /sys/fs/cgroup/unified on a hybrid one.
   */
  public static Optional<Path> cgroup2Mount(String mountinfo) {
    for (String line : mountinfo.split("\n")) {
      // id parent major:minor root mountpoint options [optional fields] - fstype source options
      int dash = line.indexOf(" - ");
      if (dash < 0) {
        continue;
      }
      String[] before = line.substring(0, dash).split(" ");
      String[] after = line.substring(dash + 3).split(" ");
      if (before.length >= 5 && after.length >= 1 && after[0].equals("cgroup2")) {
        return Optional.of(Path.of(before[4].replace("\\040", " ")));
      }
    }
    return Optional.empty();
  }

  /**
   * The cgroup v2 directory to link to: {@code configured} (or its {@code unified/}, where a
   * hybrid host keeps the v2 hierarchy), else the first cgroup2 mount of this process.
   */
  public static Path cgroupRoot(Optional<Path> configured) {
    if (configured.isEmpty()) {
      return cgroup2Mount().orElseThrow(() -> new BpfException(
          "no cgroup v2 hierarchy is mounted (/proc/self/mountinfo has no cgroup2); set"
              + " cgroup-root"));
    }
    Path dir = configured.get();
    for (Path candidate : List.of(dir, dir.resolve("unified"))) {
      if (Files.exists(candidate.resolve("cgroup.controllers"))) { // a file only cgroup v2 has
        return candidate;
      }
    }
    throw new BpfException("cgroup-root " + dir + " is not a cgroup v2 directory (no"
        + " cgroup.controllers in it or in unified/)");
  }

  /** {@link #cgroup2Mount(String)} of this process's mount namespace. */
  public static Optional<Path> cgroup2Mount() {
    try {
      return cgroup2Mount(Files.readString(Path.of("/proc/self/mountinfo")));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
