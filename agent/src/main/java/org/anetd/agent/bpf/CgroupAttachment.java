package org.anetd.agent.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import jnr.ffi.Pointer;

/**
 * A cgroup program (socket-level load balancing) attached to a cgroup v2 directory through a BPF
 * link. Link attachments run next to every other program on the cgroup (multi mode), so programs
 * of other owners keep running; a link can be pinned, outliving the agent, and a later agent
 * adopts it and swaps its program in one step (no moment without a program).
 *
 * <p>An unpinned link is detached by the kernel when {@link #close()} releases the last fd.
 */
public final class CgroupAttachment implements AutoCloseable {
  /** enum bpf_attach_type values for the sock_addr hooks the agent uses. */
  public enum Hook {
    INET4_CONNECT(10), INET6_CONNECT(11), UDP4_SENDMSG(14), UDP4_RECVMSG(19), UDP6_RECVMSG(20),
    INET4_GETPEERNAME(29), INET6_GETPEERNAME(30), INET_SOCK_RELEASE(34);

    final int attachType;

    Hook(int attachType) {
      this.attachType = attachType;
    }

    static Optional<Hook> of(int attachType) {
      return Arrays.stream(values()).filter(h -> h.attachType == attachType).findFirst();
    }
  }

  /** Where a link is attached: the cgroup's id (its directory's inode) and the hook. */
  public record Target(long cgroupId, Optional<Hook> hook) {
    /** The target of {@code hook} on the cgroup directory {@code cgroup}. */
    public static Target of(Path cgroup, Hook hook) {
      try {
        return new Target((Long) Files.getAttribute(cgroup, "unix:ino"), Optional.of(hook));
      } catch (IOException | UnsupportedOperationException e) {
        throw new BpfException("cannot stat cgroup " + cgroup + ": " + e.getMessage(), e);
      }
    }
  }

  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0x10000;
  private static final int BPF_LINK_TYPE_CGROUP = 3;
  private static final int LINK_INFO_SIZE = 32; // type, id, prog_id, pad, cgroup {id, type}

  private final String description;
  private int linkFd;

  private CgroupAttachment(int linkFd, String description) {
    this.linkFd = linkFd;
    this.description = description;
  }

  /** Attaches {@code program} to {@code hook} of the cgroup directory {@code cgroup}. */
  public static CgroupAttachment attach(Path cgroup, Hook hook, BpfProgram program) {
    Native n = Native.get();
    String target = "cgroup " + cgroup + " hook " + hook;
    int cgroupFd = n.libc.open(cgroup.toString(), O_RDONLY | O_DIRECTORY);
    if (cgroupFd < 0) {
      throw new BpfException("open", target, -n.lastErrno());
    }
    try {
      int fd = n.bpf.bpf_link_create(program.fd(), cgroupFd, hook.attachType, null);
      if (fd < 0) {
        throw new BpfException("bpf_link_create " + program.name(), target, fd);
      }
      return new CgroupAttachment(fd, target);
    } finally {
      n.libc.close(cgroupFd);
    }
  }

  /** The link pinned at {@code pin}, if there is one (left by this or an earlier agent). */
  public static Optional<CgroupAttachment> pinned(Path pin) {
    if (!Files.exists(pin)) {
      return Optional.empty();
    }
    int fd = Native.get().bpf.bpf_obj_get(pin.toString());
    if (fd < 0) {
      throw new BpfException("bpf_obj_get", "pinned link " + pin, fd);
    }
    return Optional.of(new CgroupAttachment(fd, "pinned link " + pin));
  }

  /** Pins the link at {@code path}: it stays attached after this process closes it. */
  public CgroupAttachment pin(Path path) {
    BpfException.check(Native.get().bpf.bpf_obj_pin(fd(), path.toString()), "bpf_obj_pin",
        description + " at " + path);
    return this;
  }

  /** Replaces the link's program atomically: connects never see the hook empty. */
  public void update(BpfProgram program) {
    BpfException.check(Native.get().bpf.bpf_link_update(fd(), program.fd(), null),
        "bpf_link_update " + program.name(), description);
  }

  /** Where the link is attached, as the kernel reports it. */
  public Target target() {
    Pointer info = NativeStruct.objInfo(fd(), LINK_INFO_SIZE, description);
    if (info.getInt(0) != BPF_LINK_TYPE_CGROUP) {
      throw new BpfException(description + " is not a cgroup link (link type "
          + info.getInt(0) + ")");
    }
    return new Target(info.getLong(16), Hook.of(info.getInt(24)));
  }

  /** Detaches the program from the cgroup now, pinned or not (the pin, if any, stays). */
  public void detach() {
    int rc = Native.get().bpf.bpf_link_detach(fd());
    if (rc < 0 && rc != -2) {
      throw new BpfException("bpf_link_detach", description, rc);
    }
  }

  private int fd() {
    if (linkFd < 0) {
      throw new IllegalStateException(description + " is closed");
    }
    return linkFd;
  }

  /** Releases this process's fd; a pinned link stays attached, an unpinned one goes. */
  @Override
  public void close() {
    if (linkFd >= 0) {
      Native.get().libc.close(linkFd);
      linkFd = -1;
    }
  }
}
