package org.anetd.agent.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.anetd.agent.lab.Lab;
import org.anetd.agent.lab.LabApply;
import org.anetd.agent.lab.LabDown;
import org.anetd.agent.lab.LabProbe;
import org.anetd.agent.lab.LabState;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code anetd lab}: a cluster on one machine (see docs/lab.md). */
@Command(name = "lab", description = "A single-machine cluster: embedded API server, lab nodes and"
    + " pods in network namespaces, the real agent and datapath.",
    subcommands = {LabCommand.Up.class, LabCommand.Apply.class, LabCommand.Probe.class,
        LabCommand.Exec.class, LabCommand.Down.class})
final class LabCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static class StateOption {
    @Option(names = "--state", description = "The lab's state directory (default: ${DEFAULT-VALUE}).")
    Path state = LabState.DEFAULT_DIR;
  }

  @Command(name = "up", description = "Start the lab and run in the foreground until `anetd lab"
      + " down` (or SIGTERM/Ctrl-C), which removes everything it made.")
  static final class Up implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    StateOption state;
    @Option(names = "--kubeconfig", description = "Use this cluster instead of the embedded API server.")
    Path kubeconfig;
    @Option(names = "--nodes", description = "Lab nodes (default: ${DEFAULT-VALUE}).")
    int nodes = 1;

    @Override
    public Integer call() throws InterruptedException {
      Lab lab;
      try {
        Lab.Options defaults = Lab.Options.defaults(state.state);
        lab = Lab.up(new Lab.Options(state.state, Optional.ofNullable(kubeconfig), nodes,
            defaults.cniBinary()));
      } catch (RuntimeException e) {
        spec.commandLine().getErr().println("anetd lab up: " + e.getMessage());
        return 1;
      }
      CountDownLatch done = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        lab.close();
        done.countDown();
      }, "anetd-lab-down"));
      var out = spec.commandLine().getOut();
      out.println("lab up: " + lab.nodes().size() + " node(s), API server "
          + lab.client().getMasterUrl());
      out.println("kubeconfig: " + lab.kubeconfig());
      out.println("ready");
      out.flush();
      done.await();
      return 0;
    }
  }

  @Command(name = "apply", description = "Create or update the objects of a multi-document YAML file.")
  static final class Apply implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    StateOption state;
    @Option(names = {"-f", "--filename"}, required = true, description = "The YAML file.")
    Path file;

    @Override
    public Integer call() throws Exception {
      Optional<LabState.Lab> lab = LabState.readLab(state.state);
      if (lab.isEmpty()) {
        spec.commandLine().getErr().println("anetd lab apply: no lab at " + state.state
            + ": run `anetd lab up` first");
        return 2;
      }
      try (KubernetesClient client = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
          .withConfig(io.fabric8.kubernetes.client.Config.fromKubeconfig(
              java.nio.file.Files.readString(Path.of(lab.get().kubeconfig())))).build()) {
        LabApply.apply(client, file).forEach(spec.commandLine().getOut()::println);
      } catch (RuntimeException e) {
        spec.commandLine().getErr().println("anetd lab apply: " + e.getMessage());
        return 1;
      }
      return 0;
    }
  }

  @Command(name = "probe", description = "Connect from a pod and print connected, refused or timeout.")
  static final class Probe implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    StateOption state;
    @Parameters(index = "0", paramLabel = "NS/POD")
    String from;
    @Parameters(index = "1", paramLabel = "TARGET:PORT",
        description = "TARGET: an IP, NAME.NAMESPACE.svc, NAMESPACE/POD or node.")
    String target;
    @Option(names = "--proto", description = "tcp or udp (default: ${DEFAULT-VALUE}).")
    String proto = "tcp";
    @Option(names = "--timeout-ms", description = "(default: ${DEFAULT-VALUE}).")
    int timeoutMs = 1000;

    @Override
    public Integer call() {
      try {
        spec.commandLine().getOut().println(
            LabProbe.probe(state.state, from, target, proto, timeoutMs).word());
        return 0;
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("anetd lab probe: " + e.getMessage());
        return 2;
      }
    }
  }

  @Command(name = "exec", description = "Run a command inside a pod's network namespace.")
  static final class Exec implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    StateOption state;
    @Parameters(index = "0", paramLabel = "NS/POD")
    String pod;
    @Parameters(index = "1..*", paramLabel = "CMD", description = "The command (after --).")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      String[] p = pod.split("/", -1);
      Optional<LabState.Pod> record = p.length == 2
          ? LabState.readPod(state.state, p[0], p[1]) : Optional.empty();
      if (record.isEmpty() || command.isEmpty()) {
        spec.commandLine().getErr().println("anetd lab exec: "
            + (command.isEmpty() ? "no command given" : "pod " + pod + " is not running in the lab"));
        return 2;
      }
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", record.get().netns()));
      cmd.addAll(command);
      return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
  }

  @Command(name = "down", description = "Stop the lab and remove everything it made (safe to repeat).")
  static final class Down implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    StateOption state;

    @Override
    public Integer call() {
      List<String> did = new ArrayList<>();
      LabDown.down(state.state, did::add);
      did.forEach(spec.commandLine().getOut()::println);
      spec.commandLine().getOut().println(did.isEmpty() ? "lab down: nothing to remove"
          : "lab down: done");
      return 0;
    }
  }
}
