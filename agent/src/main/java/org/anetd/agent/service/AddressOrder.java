package org.anetd.agent.service;

import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * The order of (address, port, protocol) shared by backend and frontend addresses and map keys,
 * on primitives: id allocation and rendering sort 100,000s of them on every pass.
 */
final class AddressOrder {
  private AddressOrder() {}

  static int compare(Ipv4 a, int portA, Protocol protoA, Ipv4 b, int portB, Protocol protoB) {
    int c = Integer.compareUnsigned(a.bits(), b.bits());
    if (c != 0) {
      return c;
    }
    c = Integer.compare(portA, portB);
    return c != 0 ? c : Integer.compare(protoA.number(), protoB.number());
  }
}
