package org.anetd.agent.endpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.testing.Shell;

/** Runs the real cni/anetd-cni binary as a container runtime would (built on first use). */
public final class CniPlugin {
  /** Exit code and stdout of one plugin run (stderr is for humans). */
  public record Run(int exitCode, String stdout, String stderr) {}

  private static Path binary;

  private CniPlugin() {}

  public static synchronized Path binary() {
    if (binary == null) {
      Path dir = Path.of(System.getProperty("anetd.cni.dir", "../cni"));
      Shell.run(List.of("make", "-s", "-C", dir.toString()));
      Path b = dir.resolve("anetd-cni").toAbsolutePath();
      if (!Files.isExecutable(b)) {
        throw new AssertionError("CNI plugin " + b + " is missing after `make -C " + dir + "`");
      }
      binary = b;
    }
    return binary;
  }

  public static Run run(Map<String, String> env, String stdin) {
    try {
      ProcessBuilder pb = new ProcessBuilder(binary().toString());
      pb.environment().clear();
      pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
      pb.environment().putAll(env);
      Process p = pb.start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("anetd-cni did not finish in 120 s");
      }
      return new Run(p.exitValue(), out, err);
    } catch (IOException e) {
      throw new AssertionError("cannot run anetd-cni: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  public static String config(Path socket) {
    return "{\"cniVersion\":\"1.0.0\",\"name\":\"anetd\",\"type\":\"anetd-cni\",\"agentSocket\":\""
        + socket + "\"}";
  }
}
