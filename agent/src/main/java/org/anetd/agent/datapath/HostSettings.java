package org.anetd.agent.datapath;

import java.util.Optional;

/**
 * The tunables of bpf_host.o (const volatile in {@code ebpf/include/snat.h}), set before load.
 *
 * <p>SNAT source ports for NodePort/external connections to backends on other nodes come from
 * {@code snatPortMin..snatPortMax}. The range must stay clear of node-port-range (a reply to a
 * SNAT port inside it would shadow a NodePort): the constructor rejects an overlap. It should
 * also stay clear of the node's ip_local_port_range (default 32768-60999), which is why the
 * default is 61000-65535.
 *
 * @param snatIpv4 source address for SNAT of LoadBalancer/externalIP connections; empty: the
 *     frontend address (NodePort connections always use the node address they were sent to)
 */
public record HostSettings(int snatPortMin, int snatPortMax, int nodePortMin, int nodePortMax,
    Optional<Ipv4> snatIpv4) {
  public static final int DEFAULT_SNAT_PORT_MIN = 61000;
  public static final int DEFAULT_SNAT_PORT_MAX = 65535;

  public HostSettings {
    if (snatPortMin < 1 || snatPortMax > 65535 || snatPortMin > snatPortMax) {
      throw new IllegalArgumentException("invalid SNAT port range " + snatPortMin + "-"
          + snatPortMax);
    }
    if (snatPortMin <= nodePortMax && nodePortMin <= snatPortMax) {
      throw new IllegalArgumentException("SNAT port range " + snatPortMin + "-" + snatPortMax
          + " overlaps node-port-range " + nodePortMin + "-" + nodePortMax);
    }
  }

  /**
   * The default SNAT range for a node-port-range: 61000-65535, or when node-port-range reaches
   * into it, the ports above node-port-range (or, when it ends at 65535, the 4536 ports below it).
   */
  public static HostSettings forNodePortRange(int nodePortMin, int nodePortMax) {
    int min = DEFAULT_SNAT_PORT_MIN;
    int max = DEFAULT_SNAT_PORT_MAX;
    if (nodePortMax >= min) {
      if (nodePortMax < max) {
        min = nodePortMax + 1;
      } else {
        max = nodePortMin - 1;
        min = Math.max(1024, max - (DEFAULT_SNAT_PORT_MAX - DEFAULT_SNAT_PORT_MIN));
      }
    }
    return new HostSettings(min, max, nodePortMin, nodePortMax, Optional.empty());
  }

  public static HostSettings defaults() {
    return forNodePortRange(30000, 32767);
  }

  public HostSettings withSnatPorts(int min, int max) {
    return new HostSettings(min, max, nodePortMin, nodePortMax, snatIpv4);
  }

  public HostSettings withSnatIpv4(Ipv4 address) {
    return new HostSettings(snatPortMin, snatPortMax, nodePortMin, nodePortMax,
        Optional.of(address));
  }
}
