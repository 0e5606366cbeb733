package org.anetd.agent.endpoint;

import java.util.List;

/**
 * An ADD success result (spec section 5). Rendered by {@link CniJson} in the caller's
 * cniVersion.
 */
public record CniResult(List<Interface> interfaces, List<IpConfig> ips, List<Route> routes) {
  /** An interface the attachment created; {@code sandbox} is empty for host interfaces. */
  public record Interface(String name, String mac, String sandbox) {}

  /** An address (CIDR form) and the index into {@link #interfaces} it is configured on. */
  public record IpConfig(String address, String gateway, int interfaceIndex) {}

  /** A route; {@code gw} null means the address's gateway. */
  public record Route(String dst, String gw) {}

  public CniResult {
    interfaces = List.copyOf(interfaces);
    ips = List.copyOf(ips);
    routes = List.copyOf(routes);
  }
}
