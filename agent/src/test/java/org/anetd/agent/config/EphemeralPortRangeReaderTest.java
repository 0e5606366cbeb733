package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EphemeralPortRangeReaderTest {
  @TempDir
  Path sysctl;

  @Test
  void readsRangeAndReservedPortsAndWarnsOnOverlap() throws IOException {
    Files.writeString(sysctl.resolve("ip_local_port_range"), "30500\t60999\n");
    Files.writeString(sysctl.resolve("ip_local_reserved_ports"), "30500-31000\n");
    EphemeralPortRangeReader reader = new EphemeralPortRangeReader(sysctl);

    assertThat(reader.ipLocalPortRange()).isEqualTo(new PortRange(30500, 60999));
    assertThat(reader.ipLocalReservedPorts()).containsExactly(new PortRange(30500, 31000));
    assertThat(reader.nodePortWarning(new PortRange(30000, 32767)))
        .hasValueSatisfying(w -> assertThat(w).contains(" on 31001-32767 "));
  }

  /** This node's real /proc, when there is one: the parse must work on procfs, not only on tmp. */
  @Test
  void readsTheRealProcFileOfThisNode() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.exists(EphemeralPortRangeReader.PROC_SYS_NET_IPV4.resolve("ip_local_port_range")),
        "no /proc/sys/net/ipv4 (not Linux)");
    PortRange range = EphemeralPortRangeReader.system().ipLocalPortRange();
    assertThat(range.size()).isGreaterThan(1);
    assertThat(range.first()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void missingReservedPortsFileMeansNothingReserved() throws IOException {
    Files.writeString(sysctl.resolve("ip_local_port_range"), "32768 60999\n");
    EphemeralPortRangeReader reader = new EphemeralPortRangeReader(sysctl);
    assertThat(reader.ipLocalReservedPorts()).isEmpty();
    assertThat(reader.nodePortWarning(new PortRange(30000, 32767))).isEmpty();
  }
}
