package org.anetd.agent.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.anetd.agent.bpf.NetworkNamespace;

/**
 * Network namespaces, veth pairs, bpffs pin directories, cgroups and processes for one test, all
 * removed by {@link #close()} in reverse order of creation (JUnit calls it after the test, pass or
 * fail; a JVM shutdown hook covers interrupted runs; {@link Leftovers} covers kill -9).
 *
 * <p>Names are {@code anetdt-<pid>-<n>-<label>}. Interfaces live inside the namespaces, so their
 * names only need to be unique per namespace.
 */
public final class NetnsLab implements AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final List<NetnsLab> OPEN = new ArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (OPEN) {
        for (NetnsLab lab : new ArrayList<>(OPEN)) {
          lab.close();
        }
      }
    }, "netns-lab-cleanup"));
  }

  private final Deque<Runnable> cleanups = new ArrayDeque<>();

  public NetnsLab() {
    synchronized (OPEN) {
      OPEN.add(this);
    }
  }

  /** A network namespace named after {@code label}, with loopback up. */
  public Netns netns(String label) {
    String name = Leftovers.prefixForThisJvm() + COUNTER.incrementAndGet() + "-" + label;
    Shell.run(List.of("ip", "netns", "add", name));
    cleanups.push(() -> Shell.exec(List.of("ip", "netns", "del", name), 10));
    Netns ns = new Netns(name);
    ns.ip("link", "set", "lo", "up");
    return ns;
  }

  /** A veth pair: {@code nameA} in {@code a}, {@code nameB} in {@code b}, both up. */
  public void veth(Netns a, String nameA, Netns b, String nameB) {
    String tmpA = "t" + COUNTER.incrementAndGet() + "a";
    String tmpB = "t" + COUNTER.get() + "b";
    Shell.run(List.of("ip", "link", "add", tmpA, "netns", a.name(), "type", "veth", "peer", "name",
        tmpB, "netns", b.name()));
    a.ip("link", "set", tmpA, "name", nameA);
    b.ip("link", "set", tmpB, "name", nameB);
    a.ip("link", "set", nameA, "up");
    b.ip("link", "set", nameB, "up");
  }

  /** An empty directory on bpffs for pinning, removed with everything pinned in it. */
  public Path bpffsDir(String label) {
    Path dir = Leftovers.BPFFS.resolve(Leftovers.prefixForThisJvm() + COUNTER.incrementAndGet()
        + "-" + label);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    cleanups.push(() -> Leftovers.deleteTree(dir));
    return dir;
  }

  /** A cgroup v2 directory, removed after the processes in it ended. */
  public Path cgroup(String label) {
    Path dir = Leftovers.CGROUP2.resolve(Leftovers.prefixForThisJvm() + COUNTER.incrementAndGet()
        + "-" + label);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create cgroup " + dir + ": " + e.getMessage(), e);
    }
    cleanups.push(() -> Leftovers.deleteTree(dir));
    return dir;
  }

  /** Registers extra cleanup work (detaching programs, closing objects), run before older items. */
  public void onClose(Runnable cleanup) {
    cleanups.push(cleanup);
  }

  @Override
  public void close() {
    while (!cleanups.isEmpty()) {
      try {
        cleanups.pop().run();
      } catch (RuntimeException e) {
        System.err.println("netns lab cleanup: " + e.getMessage());
      }
    }
    synchronized (OPEN) {
      OPEN.remove(this);
    }
  }

  /** One namespace of this lab. */
  public final class Netns {
    private final String name;

    Netns(String name) {
      this.name = name;
    }

    public String name() {
      return name;
    }

    public Path path() {
      return NetworkNamespace.named(name);
    }

    /** Runs {@code ip ARGS} inside this namespace. */
    public String ip(String... args) {
      List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
      cmd.addAll(List.of(args));
      return Shell.run(cmd);
    }

    /** Runs a command inside this namespace and returns its result (no exception on failure). */
    public Shell.Result exec(int timeoutSeconds, String... command) {
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
      cmd.addAll(List.of(command));
      return Shell.exec(cmd, timeoutSeconds);
    }

    /** Runs a command inside this namespace, failing the test when it fails. */
    public String run(String... command) {
      Shell.Result r = exec(30, command);
      if (r.exitCode() != 0) {
        throw new IllegalStateException("in " + name + ": `" + String.join(" ", command)
            + "` exited " + r.exitCode() + ": " + r.output().strip());
      }
      return r.output();
    }

    /** Starts a long-running command inside this namespace; it is killed at close. */
    public Process spawn(String... command) {
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
      cmd.addAll(List.of(command));
      try {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        cleanups.push(() -> {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
        });
        return p;
      } catch (IOException e) {
        throw new IllegalStateException("cannot start " + cmd + ": " + e.getMessage(), e);
      }
    }

    /** Runs Java code with this namespace as the thread's network namespace. */
    public <T> T call(Callable<T> work) {
      return NetworkNamespace.call(path(), work);
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
