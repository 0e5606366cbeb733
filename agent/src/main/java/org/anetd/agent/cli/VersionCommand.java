package org.anetd.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code anetd version}: the agent's version and the Java runtime it runs on. */
@Command(name = "version", description = "Print the anetd version.")
final class VersionCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  static String version() {
    String v = VersionCommand.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public void run() {
    spec.commandLine().getOut().println("anetd " + version() + " (java "
        + System.getProperty("java.version") + ", " + System.getProperty("os.arch") + ")");
  }

  static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"anetd " + version()};
    }
  }
}
