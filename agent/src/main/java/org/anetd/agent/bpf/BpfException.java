package org.anetd.agent.bpf;

import java.util.Map;

/**
 * A failed libbpf or BPF syscall operation. The message names the operation, its target (object,
 * map, program or hook) and the errno with its text, e.g. {@code bpf_map_update_elem on map
 * anetd_lb4_backends: E2BIG (Argument list too long)}.
 */
public class BpfException extends RuntimeException {
  private static final Map<Integer, String> ERRNO_NAMES = Map.ofEntries(
      Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(3, "ESRCH"), Map.entry(4, "EINTR"),
      Map.entry(5, "EIO"), Map.entry(7, "E2BIG"), Map.entry(9, "EBADF"), Map.entry(11, "EAGAIN"),
      Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"),
      Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"), Map.entry(19, "ENODEV"),
      Map.entry(22, "EINVAL"), Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"),
      Map.entry(95, "EOPNOTSUPP"), Map.entry(524, "ENOTSUPP"), Map.entry(4003, "LIBBPF_ERRNO__LOAD"),
      Map.entry(4007, "LIBBPF_ERRNO__VERIFY"));

  private final int errno;

  public BpfException(String message) {
    super(message);
    this.errno = 0;
  }

  public BpfException(String message, Throwable cause) {
    super(message, cause);
    this.errno = 0;
  }

  BpfException(String operation, String target, int errno) {
    super(operation + " on " + target + ": " + describe(errno));
    this.errno = Math.abs(errno);
  }

  /** The positive errno of the failure, 0 when it did not come from a syscall. */
  public int errno() {
    return errno;
  }

  static String describe(int errno) {
    int e = Math.abs(errno);
    String name = ERRNO_NAMES.getOrDefault(e, "errno " + e);
    return name + " (" + strerror(e) + ")";
  }

  private static String strerror(int errno) {
    try {
      byte[] buf = new byte[128];
      Native.get().bpf.libbpf_strerror(errno, buf, buf.length);
      int len = 0;
      while (len < buf.length && buf[len] != 0) {
        len++;
      }
      return new String(buf, 0, len, java.nio.charset.StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  /** Throws when a libbpf int result is a negative errno; returns it otherwise. */
  static int check(int result, String operation, String target) {
    if (result < 0) {
      throw new BpfException(operation, target, result);
    }
    return result;
  }
}
