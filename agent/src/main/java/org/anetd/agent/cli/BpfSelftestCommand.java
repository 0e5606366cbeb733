package org.anetd.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "selftest", description = "Load the objects and run a program (TODO).")
final class BpfSelftestCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return 1;
  }
}
