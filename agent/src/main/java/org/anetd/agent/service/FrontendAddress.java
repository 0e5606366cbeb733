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

  @Override
  public int compareTo(FrontendAddress o) {
    return AddressOrder.compare(address, port, protocol, o.address, o.port, o.protocol);
  }

  @Override
  public String toString() {
    return address + ":" + port + "/" + protocol;
  }
}
