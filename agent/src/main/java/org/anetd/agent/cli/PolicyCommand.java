package org.anetd.agent.cli;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.policy.PolicyTrace;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd policy get|trace}: what is enforced, and why a connection is allowed or not. */
@Command(name = "policy", description = "NetworkPolicy as enforced by the datapath.",
    subcommands = {PolicyCommand.Get.class, PolicyCommand.Trace.class})
final class PolicyCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "get", description = "The allow entries in effect for each endpoint of this node.")
  static final class Get extends AgentPageCommand {
    @Override
    String path() {
      return "/policyz";
    }
  }

  @Command(name = "trace",
      description = "Explain the verdict for a connection and which policy decided it.")
  static final class Trace implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", required = true, description = "NAMESPACE/POD or an IPv4 address.")
    String from;

    @Option(names = "--to", required = true, description = "NAMESPACE/POD or an IPv4 address.")
    String to;

    @Option(names = "--port", required = true, description = "PORT/PROTOCOL, e.g. 80/TCP.")
    String port;

    @Option(names = "--kubeconfig", description = "kubeconfig file (default: in-cluster, then ~/.kube/config).")
    Path kubeconfig;

    @Override
    public Integer call() throws Exception {
      String[] p = port.split("/", 2);
      int number;
      Protocol protocol;
      try {
        number = Integer.parseInt(p[0]);
        protocol = Protocol.ofKubernetes(p.length > 1 ? p[1].toUpperCase() : "TCP");
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("--port " + port + ": expected PORT/PROTOCOL such as"
            + " 80/TCP (" + e.getMessage() + ")");
        return 2;
      }
      Config config = kubeconfig == null ? Config.autoConfigure(null)
          : Config.fromKubeconfig(Files.readString(kubeconfig));
      try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
        ClusterState state = new ClusterState(0, "", List.of(), List.of(),
            client.resources(Pod.class).inAnyNamespace().list().getItems(),
            client.resources(Namespace.class).list().getItems(),
            client.resources(NetworkPolicy.class).inAnyNamespace().list().getItems(), List.of());
        PolicyTrace trace = PolicyTrace.trace(state, subject(from), subject(to), protocol, number);
        spec.commandLine().getOut().print(trace.render());
        return 0;
      }
    }

    private static PolicyTrace.Subject subject(String s) {
      int slash = s.indexOf('/');
      return slash > 0 ? PolicyTrace.Subject.pod(s.substring(0, slash), s.substring(slash + 1))
          : PolicyTrace.Subject.ip(s);
    }
  }
}
