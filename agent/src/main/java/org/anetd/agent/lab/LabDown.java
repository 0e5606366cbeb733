package org.anetd.agent.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code anetd lab down}: stops the {@code lab up} process (SIGTERM; it undoes what it made), then
 * removes whatever is still there: echo servers by recorded pid, the lab's network namespaces
 * (named {@value LabState#PREFIX}*), its pins under {@link LabState#BPF_ROOT} and the state
 * directory. Running it twice, or with no lab, is fine.
 */
public final class LabDown {
  private LabDown() {}

  /** @param report told each thing removed */
  public static void down(Path stateDir, Consumer<String> report) {
    Optional<LabState.Lab> lab = LabState.readLab(stateDir);
    lab.flatMap(l -> ProcessHandle.of(l.pid())).filter(ProcessHandle::isAlive)
        .filter(p -> p.pid() != ProcessHandle.current().pid()).ifPresent(p -> {
          report.accept("stopping lab up (pid " + p.pid() + ")");
          p.destroy();
          try {
            p.onExit().get(90, TimeUnit.SECONDS);
          } catch (Exception e) {
            report.accept("lab up (pid " + p.pid() + ") did not stop in 90 s; killing it");
            p.destroyForcibly();
          }
        });
    sweep(stateDir, report);
  }

  /** Removes what a lab left behind (a killed {@code lab up}); never touches a live lab's JVM. */
  static void sweep(Path stateDir, Consumer<String> report) {
    if (Files.isDirectory(stateDir)) {
      for (LabState.Pod p : LabState.pods(stateDir)) {
        ProcessHandle.of(p.serverPid()).filter(ProcessHandle::isAlive)
            .filter(h -> h.info().commandLine().orElse("").contains(EchoServer.class.getName()))
            .ifPresent(h -> {
              report.accept("killing echo server of " + p.namespace() + "/" + p.name()
                  + " (pid " + h.pid() + ")");
              h.destroyForcibly();
            });
      }
    }
    for (String ns : Cmd.netnsList()) {
      if (ns.startsWith(LabState.PREFIX)) {
        report.accept("deleting network namespace " + ns);
        Cmd.exec("ip", "netns", "del", ns);
      }
    }
    if (Files.exists(LabState.BPF_ROOT)) {
      report.accept("removing pins under " + LabState.BPF_ROOT);
      deleteTree(LabState.BPF_ROOT);
    }
    if (Files.exists(stateDir)) {
      report.accept("removing " + stateDir);
      deleteTree(stateDir);
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // reported below if the tree is still there
        }
      });
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      throw new IllegalStateException("cannot remove " + dir + ": " + e.getMessage(), e);
    }
    if (Files.exists(dir)) {
      throw new IllegalStateException("cannot remove " + dir + " entirely");
    }
  }
}
