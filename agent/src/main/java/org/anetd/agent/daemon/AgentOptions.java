package org.anetd.agent.daemon;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the agent was started (command line): which node it runs on, how it reaches the API server,
 * where its configuration directory and on-disk state are.
 *
 * @param nodeName the Kubernetes node this agent serves
 * @param kubeconfig a kubeconfig file; empty = in-cluster service account (or ~/.kube/config)
 * @param configDir the mounted cilium-config directory; empty = defaults only
 * @param stateDir where the agent keeps state across restarts (identities, IPAM)
 * @param configPoll how often the config directory is re-read
 */
public record AgentOptions(String nodeName, Optional<Path> kubeconfig, Optional<Path> configDir,
    Path stateDir, Duration configPoll) {
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/anetd");

  public AgentOptions {
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("--node-name is required (in a DaemonSet: the downward"
          + " API's spec.nodeName)");
    }
  }
}
