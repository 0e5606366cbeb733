package org.anetd.agent.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.anetd.agent.daemon.Agent;
import org.anetd.agent.daemon.AgentOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd agent}: the node agent (what the DaemonSet runs). */
@Command(name = "agent", description = "Run the node agent: watch the cluster, program the datapath.")
final class AgentCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--node-name", required = true, defaultValue = "${env:NODE_NAME}",
      description = "This node's name (default: $NODE_NAME).")
  String nodeName;

  @Option(names = "--kubeconfig", description = "kubeconfig file (default: in-cluster, then ~/.kube/config).")
  Path kubeconfig;

  @Option(names = "--config-dir", description = "Mounted cilium-config ConfigMap directory.")
  Path configDir;

  @Option(names = "--state-dir", description = "Agent state across restarts (default: ${DEFAULT-VALUE}).")
  Path stateDir = AgentOptions.DEFAULT_STATE_DIR;

  @Option(names = "--cni-socket", description = "The CNI plugin's unix socket (default: ${DEFAULT-VALUE}).")
  Path cniSocket = AgentOptions.DEFAULT_CNI_SOCKET;

  @Option(names = "--pod-cidr", description = "This node's pod CIDR (default: the Node's spec.podCIDR).")
  String podCidr;

  @Option(names = "--node-netns", description = "Network namespace (path) of the pods' host veths"
      + " (default: the agent's own).")
  Path nodeNetns;

  @Option(names = "--config-poll-seconds", description = "How often to re-read --config-dir (default: ${DEFAULT-VALUE}).")
  int configPollSeconds = 5;

  @Override
  public Integer call() throws Exception {
    AgentOptions options;
    try {
      options = new AgentOptions(nodeName, Optional.ofNullable(kubeconfig),
          Optional.ofNullable(configDir), stateDir, Duration.ofSeconds(configPollSeconds))
          .withCni(cniSocket, Optional.ofNullable(podCidr), Optional.ofNullable(nodeNetns));
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("anetd agent: " + e.getMessage());
      return 2;
    }
    Agent agent;
    try {
      agent = Agent.start(options);
    } catch (RuntimeException e) {
      spec.commandLine().getErr().println("anetd agent: cannot start: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "anetd-shutdown"));
    agent.awaitTermination();
    return 0;
  }
}
