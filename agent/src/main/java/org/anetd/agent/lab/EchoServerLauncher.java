package org.anetd.agent.lab;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Where the lab finds the programs it runs: the echo server's classes, the CNI plugin binary. */
final class EchoServerLauncher {
  private EchoServerLauncher() {}

  /** The jar (or classes directory) holding {@link EchoServer}: it needs nothing else. */
  static String classpath() {
    try {
      return Path.of(EchoServer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The CNI plugin: $ANETD_CNI, else -Danetd.cni.dir/anetd-cni, else cni/anetd-cni of the source
   * tree the agent jar was built in, else /opt/cni/bin/anetd-cni.
   */
  static Path cniBinary() {
    String env = System.getenv("ANETD_CNI");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath();
    }
    String dir = System.getProperty("anetd.cni.dir");
    if (dir != null) {
      return Path.of(dir, "anetd-cni").toAbsolutePath();
    }
    Path code = Path.of(classpath()).toAbsolutePath();
    // agent/target/anetd-agent-*.jar or agent/target/classes -> <repo>/cni/anetd-cni
    Path repo = code.getParent() == null ? null : code.getParent().getParent();
    if (repo != null && repo.getParent() != null) {
      Path candidate = repo.getParent().resolve("cni").resolve("anetd-cni");
      if (candidate.toFile().canExecute()) {
        return candidate;
      }
    }
    return Path.of("/opt/cni/bin/anetd-cni");
  }
}
