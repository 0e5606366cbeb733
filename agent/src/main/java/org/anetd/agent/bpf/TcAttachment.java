package org.anetd.agent.bpf;

import java.util.Optional;
import jnr.ffi.Pointer;

/**
 * A program attached as a direct-action tc filter on the clsact hook of one interface.
 *
 * <p>Attaching is idempotent: the filter sits at a fixed handle and priority and
 * BPF_TC_F_REPLACE swaps the program in place, so a restarted agent replaces its own filter
 * without a gap. An existing clsact hook (EEXIST) is reused. {@link #close()} removes only this
 * filter; the clsact hook itself is destroyed only when this attachment created it and the caller
 * asks for it ({@link #detach(boolean)}), never on an interface whose hook someone else made.
 */
public final class TcAttachment implements AutoCloseable {
  /** enum bpf_tc_attach_point */
  public enum Direction {
    INGRESS(1), EGRESS(2);

    final int attachPoint;

    Direction(int attachPoint) {
      this.attachPoint = attachPoint;
    }
  }

  /** Handle and priority of anetd's filters; other users of clsact should pick others. */
  public static final int DEFAULT_HANDLE = 0xa7e;
  public static final int DEFAULT_PRIORITY = 1;

  private static final int HOOK_SIZE = 24; // sizeof(struct bpf_tc_hook)
  private static final int OPTS_SIZE = 32; // sizeof(struct bpf_tc_opts)
  private static final int BPF_TC_F_REPLACE = 1;
  private static final int EEXIST = 17;
  private static final int ENOENT = 2;

  private final int ifindex;
  private final Direction direction;
  private final int handle;
  private final int priority;
  private final boolean hookCreated;
  private final String target;
  private boolean attached = true;

  private TcAttachment(int ifindex, Direction direction, int handle, int priority,
      boolean hookCreated, String target) {
    this.ifindex = ifindex;
    this.direction = direction;
    this.handle = handle;
    this.priority = priority;
    this.hookCreated = hookCreated;
    this.target = target;
  }

  public static TcAttachment attach(int ifindex, Direction direction, BpfProgram program) {
    return attach(ifindex, direction, program, DEFAULT_HANDLE, DEFAULT_PRIORITY);
  }

  /** Attaches in the calling thread's network namespace (see {@link NetworkNamespace}). */
  public static TcAttachment attach(int ifindex, Direction direction, BpfProgram program,
      int handle, int priority) {
    LibBpfNative bpf = Native.get().bpf;
    String target = "tc " + direction.name().toLowerCase() + " of ifindex " + ifindex;
    Pointer hook = hook(ifindex, direction);
    int rc = LibBpfLog.expecting(() -> bpf.bpf_tc_hook_create(hook)); // EEXIST: reused
    boolean created = rc == 0;
    if (rc < 0 && rc != -EEXIST) {
      throw new BpfException("bpf_tc_hook_create", target, rc);
    }
    Pointer opts = NativeStruct.opts(OPTS_SIZE);
    opts.putInt(8, program.fd());
    opts.putInt(12, BPF_TC_F_REPLACE);
    opts.putInt(20, handle);
    opts.putInt(24, priority);
    BpfException.check(bpf.bpf_tc_attach(hook, opts), "bpf_tc_attach " + program.name(), target);
    return new TcAttachment(ifindex, direction, handle, priority, created, target);
  }

  /** The id of the program attached at anetd's handle and priority, or 0 when none. */
  public static int attachedProgramId(int ifindex, Direction direction) {
    Pointer opts = NativeStruct.opts(OPTS_SIZE);
    opts.putInt(20, DEFAULT_HANDLE);
    opts.putInt(24, DEFAULT_PRIORITY);
    int rc = LibBpfLog.expecting(() -> Native.get().bpf.bpf_tc_query(hook(ifindex, direction),
        opts)); // ENOENT, EINVAL: nothing attached
    if (rc == -ENOENT || rc == -22) {
      return 0;
    }
    BpfException.check(rc, "bpf_tc_query", "tc " + direction + " of ifindex " + ifindex);
    return opts.getInt(16);
  }

  /**
   * The program attached at anetd's handle and priority, by this process or an earlier one, or
   * empty when none (no filter there, or one of another kind than bpf).
   */
  public static Optional<ProgramInfo> attachedProgram(int ifindex, Direction direction) {
    int id = attachedProgramId(ifindex, direction);
    return id == 0 ? Optional.empty() : ProgramInfo.ofId(id);
  }

  /**
   * The filter at anetd's handle and priority that an earlier process attached, to {@link
   * #detach} it. Its clsact hook counts as someone else's: detaching never destroys it. The
   * kernel removes a filter there only when it is a bpf one.
   */
  public static TcAttachment existing(int ifindex, Direction direction) {
    return new TcAttachment(ifindex, direction, DEFAULT_HANDLE, DEFAULT_PRIORITY, false,
        "tc " + direction.name().toLowerCase() + " of ifindex " + ifindex);
  }

  public int ifindex() {
    return ifindex;
  }

  public Direction direction() {
    return direction;
  }

  /** True when this attachment created the clsact hook (it did not exist before). */
  public boolean hookCreated() {
    return hookCreated;
  }

  /**
   * Removes this filter. With {@code destroyHookIfCreated}, also destroys the clsact hook, but only
   * when this attachment created it; that removes every filter on the hook, both directions.
   */
  public void detach(boolean destroyHookIfCreated) {
    if (!attached) {
      return;
    }
    LibBpfNative bpf = Native.get().bpf;
    Pointer opts = NativeStruct.opts(OPTS_SIZE);
    opts.putInt(20, handle);
    opts.putInt(24, priority);
    int rc = LibBpfLog.expecting(() -> bpf.bpf_tc_detach(hook(ifindex, direction), opts));
    // ENOENT/ENODEV: the filter or the interface is already gone, which is what we wanted.
    if (rc < 0 && rc != -ENOENT && rc != -19) {
      throw new BpfException("bpf_tc_detach", target, rc);
    }
    attached = false;
    if (destroyHookIfCreated && hookCreated) {
      Pointer both = hook(ifindex, null);
      int d = LibBpfLog.expecting(() -> bpf.bpf_tc_hook_destroy(both));
      if (d < 0 && d != -ENOENT && d != -19) {
        throw new BpfException("bpf_tc_hook_destroy", target, d);
      }
    }
  }

  @Override
  public void close() {
    detach(false);
  }

  private static Pointer hook(int ifindex, Direction direction) {
    Pointer hook = NativeStruct.opts(HOOK_SIZE);
    hook.putInt(8, ifindex);
    // BPF_TC_INGRESS | BPF_TC_EGRESS = the whole clsact qdisc
    hook.putInt(12, direction == null ? 3 : direction.attachPoint);
    return hook;
  }
}
