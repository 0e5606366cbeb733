package org.anetd.agent.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build put the compiled eBPF objects (set by surefire; a missing object fails). */
public final class EbpfObjects {
  private EbpfObjects() {}

  public static Path path(String relative) {
    String dir = System.getProperty("anetd.ebpf.build", "../ebpf/build");
    Path p = Path.of(dir).resolve(relative);
    if (!Files.isRegularFile(p)) {
      throw new AssertionError("eBPF object " + p.toAbsolutePath() + " is missing: build it with"
          + " `make -C ebpf` (a missing object fails, it never skips)");
    }
    return p;
  }
}
