package org.anetd.agent.cli;

import picocli.CommandLine.Command;

/** {@code anetd bpf ...}: inspect and test the datapath. */
@Command(name = "bpf", description = "Inspect and test the eBPF datapath.",
    subcommands = {BpfSelftestCommand.class, BpfLbCommand.class})
final class BpfCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
