package org.anetd.agent.config;

/**
 * An inclusive range of TCP/UDP ports, {@code first..last}. A single port is {@code first == last}
 * (the kernel's ip_local_reserved_ports lists those).
 */
public record PortRange(int first, int last) {
  public static final int MAX_PORT = 65535;

  public PortRange {
    if (first < 0 || last > MAX_PORT || first > last) {
      throw new IllegalArgumentException("invalid port range " + first + "-" + last);
    }
  }

  public boolean contains(int port) {
    return port >= first && port <= last;
  }

  public int size() {
    return last - first + 1;
  }

  /** {@code first-last}, the spelling of node-port-range and of sysctl values. */
  @Override
  public String toString() {
    return first == last ? Integer.toString(first) : first + "-" + last;
  }
}
