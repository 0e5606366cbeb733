package org.anetd.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code anetd}: the node agent and its tools. */
@Command(name = "anetd", mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Kubernetes node networking agent: eBPF service load balancing and"
        + " NetworkPolicy.",
    subcommands = {VersionCommand.class, AgentCommand.class, StatusCommand.class, ConfigCommand.class,
        EndpointCommand.class, PolicyCommand.class,
        BpfCommand.class, LabCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit code (tests call this directly). */
  public static int run(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
