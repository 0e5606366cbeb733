package org.anetd.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** A command that prints one page the node's agent serves (`endpoint list`, `policy get`). */
abstract class AgentPageCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--address", description = "The agent's health address (default: ${DEFAULT-VALUE}).")
  String address = AgentPages.DEFAULT_ADDRESS;

  /** The page's path, e.g. /endpointz. */
  abstract String path();

  @Override
  public Integer call() {
    return AgentPages.print(address, path(), spec.commandLine().getOut(),
        spec.commandLine().getErr()) == 200 ? 0 : 1;
  }
}
