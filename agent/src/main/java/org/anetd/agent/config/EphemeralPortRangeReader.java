package org.anetd.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads the node's ephemeral port settings from /proc/sys/net/ipv4 (the I/O half of {@link
 * PortRanges}). The directory is a parameter so that tests and containers with /proc/sys mounted
 * elsewhere can point it somewhere else.
 */
public final class EphemeralPortRangeReader {
  public static final Path PROC_SYS_NET_IPV4 = Path.of("/proc/sys/net/ipv4");

  private final Path sysctlDir;

  public EphemeralPortRangeReader(Path sysctlDir) {
    this.sysctlDir = sysctlDir;
  }

  public static EphemeralPortRangeReader system() {
    return new EphemeralPortRangeReader(PROC_SYS_NET_IPV4);
  }

  /** net.ipv4.ip_local_port_range. */
  public PortRange ipLocalPortRange() throws IOException {
    return PortRanges.parseLocalPortRange(readProcFile(sysctlDir.resolve("ip_local_port_range")));
  }

  /** net.ipv4.ip_local_reserved_ports; empty when the file is absent or nothing is reserved. */
  public List<PortRange> ipLocalReservedPorts() throws IOException {
    Path file = sysctlDir.resolve("ip_local_reserved_ports");
    return Files.exists(file) ? PortRanges.parseReservedPorts(readProcFile(file)) : List.of();
  }

  // Not Files.readString: procfs files report a bogus size, and on JDK 17 readString then
  // returns only the first byte ("3" for "32768\t60999"). A stream read to EOF gets it all.
  private static String readProcFile(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** The overlap warning for {@code nodePortRange} on this node, if there is one. */
  public Optional<String> nodePortWarning(PortRange nodePortRange) throws IOException {
    return PortRanges.nodePortEphemeralWarning(nodePortRange, ipLocalPortRange(),
        ipLocalReservedPorts());
  }

  /** The overlap warning for the SNAT port range {@code snatPorts} on this node, if any. */
  public Optional<String> snatPortWarning(PortRange snatPorts) throws IOException {
    return PortRanges.snatEphemeralWarning(snatPorts, ipLocalPortRange(), ipLocalReservedPorts());
  }
}
