package org.anetd.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `anetd bpf ...` commands against the real kernel. */
@KernelTest
class BpfCommandsKernelTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void selftestPrintsEachStepThenOk() {
    int code = run("bpf", "selftest");

    assertThat(code).isZero();
    assertThat(out.toString()).contains("ok  BPF_PROG_TEST_RUN").endsWith("OK\n");
  }

  @Test
  void selftestWithoutBpffsNamesTheMissingMountWithoutAStackTrace() {
    int code = run("bpf", "selftest", "--bpffs", "/tmp");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("FAILED at step \"check root and bpffs at /tmp\"")
        .contains("mount -t bpf bpffs")
        .doesNotContain("Exception");
  }

  @Test
  void lbListPrintsTheServiceTableFromThePinnedMaps(NetnsLab lab) {
    java.nio.file.Path pins = lab.bpffsDir("lblist");
    Ipv4 vip = Ipv4.parse("198.19.0.10");
    Lb4Key master = new Lb4Key(vip, 80, Protocol.TCP, 0, 0);
    try (Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins)
        .withLbMapMax(1024))) {
      dp.loadBalancerWriter().write(
          Map.of(master, Lb4Service.master(1, 1, 0, 0), master.withSlot(1), Lb4Service.slot(5, 1, 0)),
          Map.of(5L, new Lb4Backend(Ipv4.parse("198.18.0.2"), 8080, Protocol.TCP, 0)),
          Map.of(1, new Lb4ReverseNat(vip, 80)));
    }

    int code = run("bpf", "lb", "list", "--pin-root", pins.toString());

    assertThat(code).isZero();
    assertThat(out.toString()).contains("198.19.0.10:80/TCP").contains("198.18.0.2:8080/TCP (active)");
  }

  @Test
  void lbListWithoutAnAgentSaysSo() {
    int code = run("bpf", "lb", "list", "--pin-root", "/sys/fs/bpf/anetdt-nothing-here");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).contains("no service map").contains("is the agent running");
  }
}
