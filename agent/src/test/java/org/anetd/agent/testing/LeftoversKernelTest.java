package org.anetd.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a killed test JVM left behind is swept; what a live JVM owns is not. */
@KernelTest
class LeftoversKernelTest {

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  @Test
  void namespacesAndPinDirectoriesOfADeadPidAreSwept() throws Exception {
    String stale = Leftovers.PREFIX + deadPid() + "-1-killed";
    Shell.run(List.of("ip", "netns", "add", stale));
    Path pins = Leftovers.BPFFS.resolve(stale);
    Files.createDirectories(pins);

    Leftovers.sweep();

    assertThat(Shell.run(List.of("ip", "netns", "list"))).doesNotContain(stale);
    assertThat(pins).doesNotExist();
  }

  @Test
  void namespacesOfThisLiveJvmAreKept(NetnsLab lab) {
    NetnsLab.Netns mine = lab.netns("alive");

    Leftovers.sweep();

    assertThat(Shell.run(List.of("ip", "netns", "list"))).contains(mine.name());
  }

  @Test
  void namesWithoutTheHarnessPrefixAreNeverStale() {
    assertThat(Leftovers.isStale("anetd-selftest-1")).isFalse();
    assertThat(Leftovers.isStale("cni-1234")).isFalse();
    assertThat(Leftovers.isStale(Leftovers.prefixForThisJvm() + "3-x")).isFalse();
  }
}
