package org.anetd.agent.bpf;

import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import jnr.ffi.Pointer;
import jnr.ffi.byref.PointerByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Routes libbpf's messages into the agent's log (logger {@code org.anetd.agent.bpf.libbpf}, so
 * log-format json covers them too) instead of libbpf's default, raw lines on stderr. Warnings stay
 * warnings, except inside {@link #expecting}: a call whose failure the caller handles (a clsact
 * hook that already exists, a filter that is not there) logs its kernel message at debug rather
 * than alarm an operator with a "Kernel error message" per pod at every restart.
 */
public final class LibBpfLog {
  static final Logger LOG = LoggerFactory.getLogger("org.anetd.agent.bpf.libbpf");
  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_INFO = 1;
  private static final ThreadLocal<Boolean> EXPECTED = ThreadLocal.withInitial(() -> false);
  /** Held strongly: libbpf keeps only the native stub, which dies with this object. */
  private static final LibBpfNative.PrintCallback CALLBACK = LibBpfLog::print;
  private static volatile LibcNative libc;

  private LibBpfLog() {}

  static void install(LibBpfNative bpf, LibcNative libc) {
    LibBpfLog.libc = libc;
    bpf.libbpf_set_print(CALLBACK);
  }

  /** Runs one libbpf call whose failure the caller expects and handles. */
  static int expecting(IntSupplier call) {
    boolean outer = EXPECTED.get();
    EXPECTED.set(true);
    try {
      return call.getAsInt();
    } finally {
      EXPECTED.set(outer);
    }
  }

  private static int print(int libbpfLevel, Pointer format, Pointer args) {
    Level level = libbpfLevel == LIBBPF_WARN && !EXPECTED.get() ? Level.WARN
        : libbpfLevel == LIBBPF_INFO ? Level.INFO : Level.DEBUG;
    // libbpf's debug output is large (lines per relocation): formatted only when it is wanted.
    if (LOG.isEnabledForLevel(level)) {
      LOG.atLevel(level).log(format(format, args));
    }
    return 0;
  }

  private static String format(Pointer format, Pointer args) {
    PointerByReference result = new PointerByReference();
    if (libc.vasprintf(result, format, args) < 0 || result.getValue() == null) {
      return "libbpf: (a message that could not be formatted: " + format.getString(0).strip() + ")";
    }
    try {
      return result.getValue().getString(0, Integer.MAX_VALUE, StandardCharsets.UTF_8)
          .stripTrailing();
    } finally {
      libc.free(result.getValue());
    }
  }
}
