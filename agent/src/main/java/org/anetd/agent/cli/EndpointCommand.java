package org.anetd.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd endpoint list}: the pods of this node as the datapath knows them. */
@Command(name = "endpoint", description = "Pod endpoints of this node.",
    subcommands = {EndpointCommand.List.class})
final class EndpointCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "list", description = "Endpoint id, pod, IP, identity and policy enforcement.")
  static final class List implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--address", description = "The agent's health address (default: ${DEFAULT-VALUE}).")
    String address = AgentPages.DEFAULT_ADDRESS;

    @Override
    public Integer call() {
      return AgentPages.print(address, "/endpointz", spec.commandLine().getOut(),
          spec.commandLine().getErr()) == 200 ? 0 : 1;
    }
  }
}
