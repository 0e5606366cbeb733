package org.anetd.agent.config;

/**
 * A TCP listen address as Go spells it: {@code host:port}, {@code :port} (all interfaces) or
 * {@code [v6]:port}. An empty {@code host} means all interfaces.
 */
public record ListenAddress(String host, int port) {
  public ListenAddress {
    if (host == null) {
      throw new IllegalArgumentException("host must not be null (use \"\" for all interfaces)");
    }
    if (port < 1 || port > PortRange.MAX_PORT) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  @Override
  public String toString() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return h + ":" + port;
  }
}
