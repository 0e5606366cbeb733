package org.anetd.agent.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command (ip, sysctl) and returns its output; failures name the command and why. */
final class Cmd {
  record Result(int exitCode, String output) {}

  private Cmd() {}

  static String run(String... command) {
    Result r = exec(command);
    if (r.exitCode() != 0) {
      throw new IllegalStateException("`" + String.join(" ", command) + "` exited "
          + r.exitCode() + ": " + r.output().strip());
    }
    return r.output();
  }

  static Result exec(String... command) {
    try {
      Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, out + " (timed out)");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }

  /** The network namespaces `ip netns list` shows. */
  static List<String> netnsList() {
    return exec("ip", "netns", "list").output().lines()
        .map(l -> l.split(" ")[0]).filter(l -> !l.isBlank()).toList();
  }
}
