package org.anetd.agent.service;

import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * What one rev-NAT id stands for: a frontend's (address, port, protocol), independent of the
 * scope. The external and internal views of an externalTrafficPolicy=Local frontend share it, so
 * replies get the same service address back whichever view picked the backend.
 */
public record FrontendAddress(Ipv4 address, int port, Protocol protocol)
    implements Comparable<FrontendAddress> {

  /** Address, port, protocol; on primitives (sorted per frontend on every pass). */
  @Override
  public int compareTo(FrontendAddress o) {
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
