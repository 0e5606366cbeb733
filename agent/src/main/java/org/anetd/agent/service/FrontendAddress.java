package org.anetd.agent.service;

import java.util.Comparator;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * What one rev-NAT id stands for: a frontend's (address, port, protocol), independent of the
 * scope. The external and internal views of an externalTrafficPolicy=Local frontend share it, so
 * replies get the same service address back whichever view picked the backend.
 */
public record FrontendAddress(Ipv4 address, int port, Protocol protocol)
    implements Comparable<FrontendAddress> {

  private static final Comparator<FrontendAddress> ORDER =
      Comparator.comparing(FrontendAddress::address)
          .thenComparingInt(FrontendAddress::port)
          .thenComparingInt(f -> f.protocol().number());

  @Override
  public int compareTo(FrontendAddress o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return address + ":" + port + "/" + protocol;
  }
}
