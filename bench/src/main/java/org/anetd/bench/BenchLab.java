package org.anetd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Network namespaces, veth pairs, bpffs directories and processes of one benchmark run, removed by
 * {@link #close()} in reverse order of creation (also from a shutdown hook on Ctrl-C). A trimmed
 * copy of the agent's test harness (NetnsLab/Shell), so the bench module needs no test jar. Names
 * are {@code anetdb-<pid>-<n>-<label>}.
 */
final class BenchLab implements AutoCloseable {
  private final String prefix = "anetdb-" + ProcessHandle.current().pid() + "-";
  private final AtomicInteger counter = new AtomicInteger();
  private final Deque<Runnable> cleanups = new ArrayDeque<>();
  private final Thread hook = new Thread(this::cleanup, "bench-lab-cleanup");
  private boolean closed;

  BenchLab() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** A network namespace with loopback up. */
  String netns(String label) {
    String name = prefix + counter.incrementAndGet() + "-" + label;
    run(List.of("ip", "netns", "add", name));
    onClose(() -> exec(List.of("ip", "netns", "del", name), 30));
    ip(name, "link", "set", "lo", "up");
    return name;
  }

  /** A veth pair, {@code nameA} in netns {@code a} and {@code nameB} in {@code b}, both up. */
  void veth(String a, String nameA, String b, String nameB) {
    String tmpA = "tb" + counter.incrementAndGet() + "a";
    String tmpB = "tb" + counter.get() + "b";
    run(List.of("ip", "link", "add", tmpA, "netns", a, "type", "veth", "peer", "name", tmpB,
        "netns", b));
    ip(a, "link", "set", tmpA, "name", nameA);
    ip(b, "link", "set", tmpB, "name", nameB);
    ip(a, "link", "set", nameA, "up");
    ip(b, "link", "set", nameB, "up");
  }

  /** An empty bpffs directory, removed with what is pinned in it. */
  Path bpffsDir(String label) throws IOException {
    Path dir = Path.of("/sys/fs/bpf", prefix + counter.incrementAndGet() + "-" + label);
    Files.createDirectories(dir);
    onClose(() -> deleteTree(dir));
    return dir;
  }

  /** Starts a long-running command inside a netns; killed (by pid) at close. */
  Process spawn(String netns, String... command) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    cmd.addAll(List.of(command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    onClose(() -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return p;
  }

  void onClose(Runnable cleanup) {
    synchronized (cleanups) {
      cleanups.push(cleanup);
    }
  }

  String ip(String netns, String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip", "-n", netns));
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  /** Runs a command inside a netns; fails with its output when it fails. */
  String in(String netns, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    cmd.addAll(List.of(command));
    return run(cmd);
  }

  static String run(List<String> command) {
    Result r = exec(command, 120);
    if (r.exitCode() != 0) {
      throw new IllegalStateException("`" + String.join(" ", command) + "` exited " + r.exitCode()
          + ": " + r.output().strip());
    }
    return r.output();
  }

  record Result(int exitCode, String output) {}

  static Result exec(List<String> command, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("`" + String.join(" ", command) + "` timed out");
      }
      return new Result(p.exitValue(),
          new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }

  /**
   * Removes a cgroup v2 directory and its child cgroups (rmdir, deepest first). A client still
   * running in one (a run interrupted mid-measurement) ends within its measuring time: retried
   * for up to 30 s.
   */
  static void deleteCgroup(Path root) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (Files.exists(root)) {
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          System.err.println("cleanup " + root + ": " + e.getMessage());
          return;
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("cleanup " + root + ": " + e.getMessage());
    }
  }

  private void cleanup() {
    while (true) {
      Runnable next;
      synchronized (cleanups) {
        if (cleanups.isEmpty()) {
          return;
        }
        next = cleanups.pop();
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        System.err.println("cleanup: " + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    cleanup();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs cleanup(), which finds nothing left
    }
  }
}
