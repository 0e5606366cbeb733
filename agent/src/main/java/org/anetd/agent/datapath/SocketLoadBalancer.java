package org.anetd.agent.datapath;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.CgroupAttachment;
import org.anetd.agent.bpf.CgroupAttachment.Hook;

/**
 * Socket-level load balancing (bpf-lb-sock): bpf_sock's programs (connect4, sendmsg4, recvmsg4,
 * getpeername4, their connect6, recvmsg6 and getpeername6 twins for v4-mapped addresses,
 * sock_release) linked to a cgroup v2 directory (the node's cgroup root: every
 * process of the node, in pods and in the host namespace). The links are pinned under the pin
 * root, so they outlive the agent like the tc programs do; a restarted agent adopts them and swaps
 * in its programs without a gap, and disabling detaches what an earlier agent left.
 *
 * <p>Pods get TCP without session affinity here and everything else from bpf_lxc on their veth,
 * so turning this on or off never breaks their service traffic. Sockets of the node's own network
 * namespace (given to {@link #enable} by its cookie) have no such path behind them and get every
 * ClusterIP here: TCP and UDP, affinity, refusal of frontends without backends (bpf_sock.c).
 */
public final class SocketLoadBalancer {
  private final Path pinDir;
  private final List<Link> links;
  private final BpfMap sockRev;
  private final BpfMap udpRev;
  private final BpfMap host;

  private record Link(String pin, Hook hook, BpfProgram program) {}

  /**
   * The programs and maps of one loaded bpf_sock object. Links are made in list order and
   * removed in reverse: sock_release is in place before connect4 writes an entry (every entry
   * has its delete), and is the last to go.
   */
  public SocketLoadBalancer(Path pinDir, BpfObject sock) {
    this.pinDir = pinDir;
    this.links = List.of(
        new Link("sock_release", Hook.INET_SOCK_RELEASE, sock.program("sock_release")),
        new Link("sock4_connect", Hook.INET4_CONNECT, sock.program("sock4_connect")),
        new Link("sock4_sendmsg", Hook.UDP4_SENDMSG, sock.program("sock4_sendmsg")),
        new Link("sock4_recvmsg", Hook.UDP4_RECVMSG, sock.program("sock4_recvmsg")),
        new Link("sock4_getpeername", Hook.INET4_GETPEERNAME, sock.program("sock4_getpeername")),
        // AF_INET6 sockets naming IPv4 peers v4-mapped (::ffff:a.b.c.d), as Java's do
        new Link("sock6_connect", Hook.INET6_CONNECT, sock.program("sock6_connect")),
        new Link("sock6_recvmsg", Hook.UDP6_RECVMSG, sock.program("sock6_recvmsg")),
        new Link("sock6_getpeername", Hook.INET6_GETPEERNAME, sock.program("sock6_getpeername")));
    this.sockRev = sock.map(Datapath.LB4_SOCK_REV);
    this.udpRev = sock.map(Datapath.LB4_SOCK_UDP_REV);
    this.host = sock.map(HOST_NETNS);
  }

  /** bpf_sock's one-entry map of the node's network namespace cookie (0: none). */
  static final String HOST_NETNS = "anetd_sock_host";

  /**
   * Links the programs to {@code cgroup}: a pinned link already there is updated in place; one
   * pinned on another cgroup (the root moved) is detached first. Sockets of the network
   * namespace with cookie {@code hostNetnsCookie} ({@link
   * org.anetd.agent.bpf.NetworkNamespace#cookie}; 0: none) are served as the node's own.
   */
  public void enable(Path cgroup, long hostNetnsCookie) {
    try {
      Files.createDirectories(pinDir);
    } catch (IOException e) {
      throw new BpfException("create link pin directory " + pinDir + ": " + e.getMessage(), e);
    }
    writeHostNetns(hostNetnsCookie);
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
   * Detaches the pinned links, this agent's, an earlier one's, or a newer one's after a
   * downgrade (every pin in the link directory), and empties the notes (with
   * sock_release gone nothing would delete what is left) and the host namespace cookie. Whether
   * there were any links.
   */
  public boolean disable() {
    boolean any = false;
    List<Path> known = reversed(links).stream().map(l -> pinDir.resolve(l.pin())).toList();
    List<Path> pins = new java.util.ArrayList<>(known);
    pins.addAll(otherPins(known)); // links of a newer agent (a downgrade): nothing else removes them
    for (Path pin : pins) {
      Optional<CgroupAttachment> existing;
      try {
        existing = CgroupAttachment.pinned(pin);
      } catch (RuntimeException e) {
        if (known.contains(pin)) {
          throw e;
        }
        continue; // a newer agent's pin that is no cgroup link: not ours to judge
      }
      if (existing.isPresent()) {
        try (CgroupAttachment a = existing.get()) {
          a.detach();
        }
        deletePin(pin);
        any = true;
      }
    }
    for (BpfMap notes : List.of(sockRev, udpRev)) {
      for (byte[] key : notes.keys()) {
        notes.delete(key); // one at a time: a socket may close (and delete its own) meanwhile
      }
    }
    writeHostNetns(0);
    return any;
  }

  /** The one entry of {@link #HOST_NETNS}: the node's netns cookie, 0 for none. */
  private void writeHostNetns(long cookie) {
    host.update(new byte[4], ByteBuffer.allocate(8).order(ByteOrder.nativeOrder())
        .putLong(cookie).array());
  }

  /** Pins in the link directory other than {@code known}. */
  private List<Path> otherPins(List<Path> known) {
    if (!Files.isDirectory(pinDir)) {
      return List.of();
    }
    try (var files = Files.list(pinDir)) {
      return files.filter(p -> !known.contains(p) && Files.isRegularFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new BpfException("list link pins in " + pinDir + ": " + e.getMessage(), e);
    }
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
