package org.anetd.agent.daemon;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the agent was started (command line): which node it runs on, how it reaches the API server,
 * where its configuration directory and on-disk state are, and where it serves CNI.
 *
 * @param nodeName the Kubernetes node this agent serves
 * @param kubeconfig a kubeconfig file; empty = in-cluster service account (or ~/.kube/config)
 * @param configDir the mounted cilium-config directory; empty = defaults only
 * @param stateDir where the agent keeps state across restarts (IPAM, endpoints, the last accepted
 *     cilium-config)
 * @param configPoll how often the config directory is re-read
 * @param cniSocket the unix socket the CNI plugin talks to
 * @param podCidr this node's pod CIDR; empty = the Node's spec.podCIDR
 * @param nodeNetns the network namespace the pod veths' host ends live in; empty = the agent's
 *     own (production); a named namespace for the lab and tests
 */
public record AgentOptions(String nodeName, Optional<Path> kubeconfig, Optional<Path> configDir,
    Path stateDir, Duration configPoll, Path cniSocket, Optional<String> podCidr,
    Optional<Path> nodeNetns) {
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/anetd");
  public static final Path DEFAULT_CNI_SOCKET = Path.of("/var/run/anetd/cni.sock");

  public AgentOptions {
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("--node-name is required (in a DaemonSet: the downward"
          + " API's spec.nodeName)");
    }
  }

  /** The production defaults for the CNI side: default socket, Node's podCIDR, own namespace. */
  public AgentOptions(String nodeName, Optional<Path> kubeconfig, Optional<Path> configDir,
      Path stateDir, Duration configPoll) {
    this(nodeName, kubeconfig, configDir, stateDir, configPoll, DEFAULT_CNI_SOCKET,
        Optional.empty(), Optional.empty());
  }

  public AgentOptions withCni(Path socket, Optional<String> cidr, Optional<Path> netns) {
    return new AgentOptions(nodeName, kubeconfig, configDir, stateDir, configPoll, socket, cidr,
        netns);
  }

  /** IPAM allocations ({@code allocations.json}). */
  public Path ipamDir() {
    return stateDir.resolve("ipam");
  }

  /** The last accepted cilium-config ({@code last-accepted.properties}). */
  public Path lastAcceptedConfigDir() {
    return stateDir.resolve("config");
  }

  /** The endpoint registry ({@code endpoints.json}). */
  public Path endpointsDir() {
    return stateDir.resolve("endpoints");
  }
}
