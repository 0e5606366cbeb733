package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The link, address, route and sysctl operations endpoint wiring needs, per network namespace.
 * A namespace is a path (CNI_NETNS, /var/run/netns/NAME, /proc/PID/ns/net); {@code null} means
 * the agent's own namespace (the node's root namespace in production).
 *
 * <p>Kept this small so {@link EndpointManager}'s decisions run in unit tests against an
 * in-memory fake, and so the iproute2 implementation can give way to netlink later.
 */
public interface LinkOps {
  /** One interface as the kernel reports it. */
  record Link(String name, int ifindex, String mac, boolean up) {}

  /**
   * A route of one device. {@code dst} is "default" or an address or prefix as iproute2 prints it
   * ("10.0.0.5", "10.0.0.0/24"); {@code gateway} and {@code scope} ("link") may be null.
   */
  record Route(String dst, String gateway, String dev, String scope) {
    public static Route link(String dst, String dev) {
      return new Route(dst, null, dev, "link");
    }

    public static Route defaultVia(String gateway, String dev) {
      return new Route("default", gateway, dev, null);
    }
  }

  Optional<Link> link(Path netns, String ifname);

  /**
   * Creates a veth pair with {@code hostIfname} in {@code hostNetns} and its peer named
   * {@code peerIfname} directly in {@code peerNetns} (no moment where the peer sits in the host
   * namespace under a name that might clash). Both ends start down, with MTU {@code mtu} (0: the
   * kernel's default).
   */
  void createVethPair(Path hostNetns, String hostIfname, Path peerNetns, String peerIfname,
      int mtu);

  /** Deletes an interface (a veth takes its peer with it); a missing one is fine. */
  void deleteLink(Path netns, String ifname);

  void setUp(Path netns, String ifname);

  /** Adds an address in CIDR form ("10.0.0.5/32"). */
  void addAddress(Path netns, String ifname, String cidr);

  /** The IPv4 addresses of an interface in CIDR form. */
  List<String> addresses(Path netns, String ifname);

  void addRoute(Path netns, Route route);

  /** The IPv4 routes (main table) whose device is {@code ifname}. */
  List<Route> routes(Path netns, String ifname);

  /** Sets a sysctl such as net.ipv4.conf.lxc0123.proxy_arp inside {@code netns}. */
  void setSysctl(Path netns, String key, String value);
}
