package org.anetd.agent.service;

import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * What one backend id stands for: a pod address, its resolved target port and the protocol.
 * Services that reach the same (address, port, protocol) share one backend entry.
 */
public record BackendAddress(Ipv4 address, int port, Protocol protocol)
    implements Comparable<BackendAddress> {

  /** Address, port, protocol; on primitives, because id allocation sorts 100,000s of these. */
  @Override
  public int compareTo(BackendAddress o) {
    int c = Integer.compareUnsigned(address.bits(), o.address.bits());
    if (c != 0) {
      return c;
    }
    c = Integer.compare(port, o.port);
    return c != 0 ? c : Integer.compare(protocol.number(), o.protocol.number());
  }

  @Override
  public String toString() {
    return address + ":" + port + "/" + protocol;
  }
}
