package org.anetd.agent.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd status}: the running agent's summary, like {@code cilium status}. */
@Command(name = "status",
    description = "Show the health, config, maps and last reconcile of the agent on this node.")
final class StatusCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--address", description = "The agent's health address (default: ${DEFAULT-VALUE}).")
  String address = AgentPages.DEFAULT_ADDRESS;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (AgentPages.print(address, "/statusz", out, err) < 0) {
      return 2;
    }
    PrintWriter none = new PrintWriter(java.io.Writer.nullWriter());
    return AgentPages.print(address, "/readyz", none, err) == 200 ? 0 : 1;
  }
}
