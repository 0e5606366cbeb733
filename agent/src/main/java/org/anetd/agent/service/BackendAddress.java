package org.anetd.agent.service;

import java.util.Comparator;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * What one backend id stands for: a pod address, its resolved target port and the protocol.
 * Services that reach the same (address, port, protocol) share one backend entry.
 */
public record BackendAddress(Ipv4 address, int port, Protocol protocol)
    implements Comparable<BackendAddress> {

  private static final Comparator<BackendAddress> ORDER =
      Comparator.comparing(BackendAddress::address)
          .thenComparingInt(BackendAddress::port)
          .thenComparingInt(b -> b.protocol().number());

  @Override
  public int compareTo(BackendAddress o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return address + ":" + port + "/" + protocol;
  }
}
