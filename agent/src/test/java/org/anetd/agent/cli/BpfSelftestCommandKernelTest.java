package org.anetd.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.anetd.agent.testing.KernelTest;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `anetd bpf selftest` prints OK on a capable machine and a clear error otherwise. */
@KernelTest
class BpfSelftestCommandKernelTest {
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
}
