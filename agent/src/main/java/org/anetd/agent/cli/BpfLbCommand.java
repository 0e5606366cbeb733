package org.anetd.agent.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.LbTable;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4BackendCodec;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4KeyCodec;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.Lb4ServiceCodec;
import org.anetd.agent.datapath.U32Codec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd bpf lb list}: the service table as the datapath holds it. */
@Command(name = "lb", description = "Service load-balancing maps.",
    subcommands = {BpfLbCommand.List.class})
final class BpfLbCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "list", description = "List frontends and their backends (like cilium bpf lb list).")
  static final class List implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--pin-root", description = "Where the agent pins its maps (default: ${DEFAULT-VALUE}).")
    Path pinRoot = DatapathSettings.DEFAULT_PIN_ROOT;

    @Override
    public Integer call() {
      Path servicesPin = pinRoot.resolve(Datapath.LB4_SERVICES);
      if (!Files.exists(servicesPin)) {
        spec.commandLine().getErr().println("no service map at " + servicesPin
            + ": is the agent running on this node (and is --pin-root right)?");
        return 1;
      }
      try (BpfMap services = BpfMap.openPinned(servicesPin);
           BpfMap backends = BpfMap.openPinned(pinRoot.resolve(Datapath.LB4_BACKENDS))) {
        Map<Lb4Key, Lb4Service> s = new HashMap<>();
        services.entries().forEach(e -> s.put(Lb4KeyCodec.INSTANCE.decode(e.key()),
            Lb4ServiceCodec.INSTANCE.decode(e.value())));
        Map<Long, Lb4Backend> b = new HashMap<>();
        backends.entries().forEach(e -> b.put(U32Codec.INSTANCE.decode(e.key()),
            Lb4BackendCodec.INSTANCE.decode(e.value())));
        spec.commandLine().getOut().print(LbTable.render(s, b));
        return 0;
      } catch (BpfException e) {
        spec.commandLine().getErr().println(e.getMessage());
        return 1;
      }
    }
  }
}
