package org.anetd.agent.service;

import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * What one backend id stands for: a pod address, its resolved target port and the protocol.
 * Services that reach the same (address, port, protocol) share one backend entry.
 */
public record BackendAddress(Ipv4 address, int port, Protocol protocol)
    implements Comparable<BackendAddress> {

  @Override
  public int compareTo(BackendAddress o) {
    return AddressOrder.compare(address, port, protocol, o.address, o.port, o.protocol);
  }

  @Override
  public String toString() {
    return address + ":" + port + "/" + protocol;
  }
}
