package org.anetd.agent.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.anetd.agent.bpf.SelfTest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd bpf selftest}: proves this machine can run the datapath, step by step. */
@Command(name = "selftest",
    description = "Load the eBPF objects, pin maps under a bpffs directory, run a program with"
        + " BPF_PROG_TEST_RUN and clean up. Prints OK or the failing step.")
final class BpfSelftestCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--bpffs", defaultValue = "/sys/fs/bpf",
      description = "bpffs mount to pin the test maps under (default: ${DEFAULT-VALUE}).")
  Path bpffs;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SelfTest.Result result = SelfTest.run(bpffs, step -> out.println("  ok  " + step));
    if (result.ok()) {
      out.println("OK");
      return 0;
    }
    PrintWriter err = spec.commandLine().getErr();
    err.println("FAILED at step \"" + result.failedStep() + "\": " + result.message());
    return 1;
  }
}
