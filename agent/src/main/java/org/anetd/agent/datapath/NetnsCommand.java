package org.anetd.agent.datapath;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a command ({@code ip}, {@code sysctl}) in a network namespace, bounded in time: a command
 * that hangs (the kernel's rtnl lock held elsewhere) is killed at its timeout instead of holding
 * the agent thread that waits for it.
 */
public final class NetnsCommand {
  /** What a command did: its full command line, exit status and output (stdout and stderr). */
  public record Result(List<String> command, int exit, String output) {}

  private NetnsCommand() {}

  /** Runs {@code command} in {@code netns} (null: the agent's); kills it after {@code timeout}. */
  public static Result run(Path netns, List<String> command, Duration timeout) {
    List<String> full = new ArrayList<>();
    if (netns != null) {
      full.addAll(List.of("nsenter", "--net=" + netns));
    }
    full.addAll(command);
    String line = "`" + String.join(" ", full) + "`";
    try {
      Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
      p.getOutputStream().close();
      // Read on another thread: reading here returns only when the command exits, so a hung
      // command would never let the timeout below fire.
      FutureTask<byte[]> output = drain(p.getInputStream(), line);
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(line + " did not finish in " + timeout.toSeconds()
            + " s and was killed");
      }
      // Normally complete once the command exits; bounded in case a child it left keeps the
      // pipe open.
      byte[] out = output.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new Result(full, p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + line + ": " + e.getMessage(), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot read the output of " + line + ": "
          + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("the output of " + line + " did not end in "
          + timeout.toSeconds() + " s after it exited", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + line, e);
    }
  }

  private static FutureTask<byte[]> drain(InputStream in, String line) {
    FutureTask<byte[]> task = new FutureTask<>(() -> {
      try (in) {
        return in.readAllBytes();
      }
    });
    Thread t = new Thread(task, "exec-output " + line);
    t.setDaemon(true);
    t.start();
    return task;
  }
}
