package org.anetd.agent.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Removes what killed test JVMs left behind. Everything the harness creates carries the prefix
 * {@code anetdt-<pid>-}; an item is swept only when that pid no longer runs, so concurrent test
 * runs never remove each other's namespaces.
 */
public final class Leftovers {
  static final String PREFIX = "anetdt-";
  private static final Pattern OWNED = Pattern.compile("^" + PREFIX + "(\\d+)-.*");
  static final Path BPFFS = Path.of("/sys/fs/bpf");
  static final Path CGROUP2 = Path.of("/sys/fs/cgroup/unified");

  private Leftovers() {}

  static String prefixForThisJvm() {
    return PREFIX + ProcessHandle.current().pid() + "-";
  }

  public static void sweep() {
    Shell.Result ns = Shell.exec(List.of("ip", "netns", "list"), 10);
    for (String line : ns.output().split("\n")) {
      String name = line.split(" ")[0].trim();
      if (isStale(name)) {
        Shell.exec(List.of("ip", "netns", "del", name), 10);
      }
    }
    for (Path root : List.of(BPFFS, CGROUP2)) {
      try (Stream<Path> entries = Files.list(root)) {
        entries.filter(p -> isStale(p.getFileName().toString())).forEach(Leftovers::deleteTree);
      } catch (IOException | RuntimeException e) {
        // nothing to sweep there
      }
    }
  }

  static boolean isStale(String name) {
    Matcher m = OWNED.matcher(name);
    if (!m.matches()) {
      return false;
    }
    long pid = Long.parseLong(m.group(1));
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  /** Deletes a bpffs or cgroup directory tree (cgroup dirs are removed, their files are not). */
  static void deleteTree(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        try {
          Files.delete(p);
        } catch (IOException e) {
          // cgroup control files cannot be deleted; rmdir of the directory removes them
        }
      }
    } catch (IOException e) {
      // already gone
    }
  }
}
