package org.anetd.agent.bpf;

import java.nio.file.Path;

/**
 * A cgroup program (socket-level load balancing) attached to a cgroup v2 directory with
 * BPF_F_ALLOW_MULTI, so programs of other owners on the same cgroup keep running.
 */
public final class CgroupAttachment implements AutoCloseable {
  /** enum bpf_attach_type values for the sock_addr hooks the agent uses. */
  public enum Hook {
    INET4_CONNECT(10), UDP4_SENDMSG(14), UDP4_RECVMSG(19), INET4_GETPEERNAME(29);

    final int attachType;

    Hook(int attachType) {
      this.attachType = attachType;
    }
  }

  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0x10000;
  private static final int BPF_F_ALLOW_MULTI = 2;

  private final int cgroupFd;
  private final BpfProgram program;
  private final Hook hook;
  private final String target;
  private boolean attached = true;

  private CgroupAttachment(int cgroupFd, BpfProgram program, Hook hook, String target) {
    this.cgroupFd = cgroupFd;
    this.program = program;
    this.hook = hook;
    this.target = target;
  }

  public static CgroupAttachment attach(Path cgroup, Hook hook, BpfProgram program) {
    Native n = Native.get();
    String target = "cgroup " + cgroup + " hook " + hook;
    int fd = n.libc.open(cgroup.toString(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      throw new BpfException("open", target, -n.lastErrno());
    }
    int rc = n.bpf.bpf_prog_attach(program.fd(), fd, hook.attachType, BPF_F_ALLOW_MULTI);
    if (rc < 0) {
      n.libc.close(fd);
      throw new BpfException("bpf_prog_attach " + program.name(), target, rc);
    }
    return new CgroupAttachment(fd, program, hook, target);
  }

  public void detach() {
    if (!attached) {
      return;
    }
    Native n = Native.get();
    int rc = n.bpf.bpf_prog_detach2(program.fd(), cgroupFd, hook.attachType);
    n.libc.close(cgroupFd);
    attached = false;
    if (rc < 0 && rc != -2) {
      throw new BpfException("bpf_prog_detach2 " + program.name(), target, rc);
    }
  }

  @Override
  public void close() {
    detach();
  }
}
