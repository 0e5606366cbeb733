package org.anetd.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

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
  static final class List extends AgentPageCommand {
    @Override
    String path() {
      return "/endpointz";
    }
  }
}
