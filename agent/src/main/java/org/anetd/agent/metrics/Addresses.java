package org.anetd.agent.metrics;

import java.net.InetSocketAddress;

/** Parses listen addresses as cilium-config writes them: ":9962", "127.0.0.1:9962". */
public final class Addresses {
  private Addresses() {}

  public static InetSocketAddress parse(String address) {
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("listen address \"" + address
          + "\" has no port (expected host:port or :port)");
    }
    String host = address.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("listen address \"" + address + "\" has no valid port");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("listen address \"" + address + "\": port out of range");
    }
    return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
  }
}
