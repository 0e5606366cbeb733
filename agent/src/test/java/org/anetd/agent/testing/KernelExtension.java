package org.anetd.agent.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.anetd.agent.bpf.Bpf;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gatekeeper and resource provider for {@link KernelTest}s. Before the first kernel test of a JVM
 * it sweeps leftovers of killed earlier runs, checks root, bpffs (mounting it if needed), and the
 * tools the harness drives. Test methods may take a {@link NetnsLab} parameter: a fresh one per
 * test, torn down after it, also when it fails.
 */
public final class KernelExtension implements BeforeAllCallback, ParameterResolver {
  private static volatile String unusableReason;
  private static volatile boolean checked;

  @Override
  public void beforeAll(ExtensionContext context) {
    String reason = machineProblem();
    if (reason == null) {
      return;
    }
    String message = "kernel test " + context.getDisplayName() + " cannot run here: " + reason;
    if (isCi()) {
      throw new AssertionError(message + " (CI=true: a skipped kernel test is a failure)");
    }
    System.err.println("SKIPPED (loudly): " + message);
    Assumptions.abort(message);
  }

  static boolean isCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  private static synchronized String machineProblem() {
    if (checked) {
      return unusableReason;
    }
    checked = true;
    unusableReason = probe();
    if (unusableReason == null) {
      Leftovers.sweep();
    }
    return unusableReason;
  }

  private static String probe() {
    try {
      if (!Bpf.isRoot()) {
        return "not running as root (needs CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)";
      }
    } catch (RuntimeException e) {
      return "libbpf.so.1 unusable: " + e.getMessage();
    }
    Path bpffs = Path.of("/sys/fs/bpf");
    if (!Bpf.isOnBpffs(bpffs)) {
      try {
        Files.createDirectories(bpffs);
        Shell.run(List.of("mount", "-t", "bpf", "bpffs", bpffs.toString()));
      } catch (Exception e) {
        return "no bpf filesystem at /sys/fs/bpf and mounting it failed: " + e.getMessage();
      }
    }
    if (!Files.exists(Path.of("/sys/kernel/btf/vmlinux"))) {
      return "kernel has no BTF (/sys/kernel/btf/vmlinux missing)";
    }
    List<String> missing = new ArrayList<>();
    for (String tool : List.of("ip", "tc", "ping", "socat")) {
      if (!Shell.onPath(tool)) {
        missing.add(tool);
      }
    }
    if (!missing.isEmpty()) {
      return "missing tools " + missing + " (run `make deps`)";
    }
    return null;
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == NetnsLab.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    // Stored in the test's context: JUnit closes it (AutoCloseable) when the test ends.
    return e.getStore(ExtensionContext.Namespace.create(KernelExtension.class, e.getUniqueId()))
        .getOrComputeIfAbsent("lab", k -> new NetnsLab(), NetnsLab.class);
  }
}
