package org.anetd.agent.bpf;

import jnr.ffi.Pointer;

/** A loaded program (its fd is owned by its {@link BpfObject}). */
public final class BpfProgram {
  /** Outcome of BPF_PROG_TEST_RUN: return code, the packet as the program left it, mean ns. */
  public record TestRun(int retval, byte[] dataOut, int durationNs) {}

  private static final int TEST_RUN_OPTS_SIZE = 80; // sizeof(struct bpf_test_run_opts), libbpf 1.1

  private final String name;
  private final int fd;

  BpfProgram(String name, int fd) {
    this.name = name;
    this.fd = fd;
  }

  public String name() {
    return name;
  }

  public int fd() {
    return fd;
  }

  /**
   * Runs the program on {@code packet} (an Ethernet frame for tc programs) with
   * BPF_PROG_TEST_RUN, {@code repeat} times.
   */
  public TestRun testRun(byte[] packet, int repeat) {
    int outCapacity = packet.length + 256; // room for encapsulation growth
    Pointer in = NativeStruct.copyOf(packet);
    Pointer out = NativeStruct.zeroed(outCapacity);
    Pointer opts = NativeStruct.opts(TEST_RUN_OPTS_SIZE);
    opts.putPointer(8, in);
    opts.putPointer(16, out);
    opts.putInt(24, packet.length);
    opts.putInt(28, outCapacity);
    opts.putInt(60, Math.max(1, repeat));
    BpfException.check(Native.get().bpf.bpf_prog_test_run_opts(fd, opts),
        "bpf_prog_test_run_opts", "program " + name);
    int outLen = Math.min(opts.getInt(28), outCapacity);
    byte[] data = new byte[outLen];
    out.get(0, data, 0, outLen);
    return new TestRun(opts.getInt(56), data, opts.getInt(64));
  }

  @Override
  public String toString() {
    return "BpfProgram[" + name + " fd=" + fd + "]";
  }
}
