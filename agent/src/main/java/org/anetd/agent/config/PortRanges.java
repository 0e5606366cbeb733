package org.anetd.agent.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Pure checks for the GKE known issue "NodePort range vs ephemeral ports": when the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range) overlaps node-port-range, an outgoing connection
 * from the node can take a NodePort as its source port, and that NodePort then fails for as long
 * as the connection lives. The same goes for the SNAT source ports of bpf_host
 * ({@link #snatEphemeralWarning}). Ports in net.ipv4.ip_local_reserved_ports are never picked,
 * so they do not count as overlap.
 */
public final class PortRanges {
  private PortRanges() {}

  /** The ports in both ranges, if any. */
  public static Optional<PortRange> overlap(PortRange a, PortRange b) {
    int first = Math.max(a.first(), b.first());
    int last = Math.min(a.last(), b.last());
    return first <= last ? Optional.of(new PortRange(first, last)) : Optional.empty();
  }

  /** The parts of {@code range} not covered by any of {@code holes}, in ascending order. */
  public static List<PortRange> subtract(PortRange range, List<PortRange> holes) {
    List<PortRange> sorted = new ArrayList<>(holes);
    sorted.sort(Comparator.comparingInt(PortRange::first));
    List<PortRange> remaining = new ArrayList<>();
    int next = range.first(); // first port not yet accounted for
    for (PortRange hole : sorted) {
      if (hole.last() < next || hole.first() > range.last()) {
        continue;
      }
      if (hole.first() > next) {
        remaining.add(new PortRange(next, hole.first() - 1));
      }
      next = Math.max(next, hole.last() + 1);
      if (next > range.last()) {
        return remaining;
      }
    }
    remaining.add(new PortRange(next, range.last()));
    return remaining;
  }

  /** The ports of node-port-range that the kernel may hand out as ephemeral source ports. */
  public static List<PortRange> unreservedOverlap(PortRange nodePortRange,
      PortRange ipLocalPortRange, List<PortRange> ipLocalReservedPorts) {
    return overlap(nodePortRange, ipLocalPortRange)
        .map(o -> subtract(o, ipLocalReservedPorts))
        .orElse(List.of());
  }

  /** A warning for the operator, when some NodePorts may be taken as ephemeral ports. */
  public static Optional<String> nodePortEphemeralWarning(PortRange nodePortRange,
      PortRange ipLocalPortRange, List<PortRange> ipLocalReservedPorts) {
    return ephemeralWarning(nodePortRange, "node-port-range " + spell(nodePortRange),
        "the node may use a NodePort as the source port of an outgoing connection, and that"
            + " NodePort then fails while the connection lasts.",
        ipLocalPortRange, ipLocalReservedPorts);
  }

  /**
   * A warning for the operator, when the SNAT source ports of NodePort connections to backends on
   * other nodes (bpf_host, {@code snat_port_min..snat_port_max}) may also be handed out as
   * ephemeral ports: a connection of the node itself to a backend from such a port can share its
   * tuple with a SNATed connection, and the replies of one then go to the other.
   */
  public static Optional<String> snatEphemeralWarning(PortRange snatPorts,
      PortRange ipLocalPortRange, List<PortRange> ipLocalReservedPorts) {
    return ephemeralWarning(snatPorts, "the SNAT port range " + spell(snatPorts)
            + " (NodePort connections to backends on other nodes)",
        "a connection of the node to a backend from one of these ports can share its tuple"
            + " with a SNATed connection, and the replies of one then go to the other.",
        ipLocalPortRange, ipLocalReservedPorts);
  }

  /** The warning that {@code ports} ({@code what}) may be handed out as ephemeral ports. */
  private static Optional<String> ephemeralWarning(PortRange ports, String what,
      String consequence, PortRange ipLocalPortRange, List<PortRange> ipLocalReservedPorts) {
    List<PortRange> exposed = unreservedOverlap(ports, ipLocalPortRange, ipLocalReservedPorts);
    if (exposed.isEmpty()) {
      return Optional.empty();
    }
    String on = exposed.stream().map(PortRange::toString).collect(Collectors.joining(","));
    return Optional.of("net.ipv4.ip_local_port_range " + spell(ipLocalPortRange) + " overlaps "
        + what + " on " + on
        + (ipLocalReservedPorts.isEmpty() ? "" : " (not in net.ipv4.ip_local_reserved_ports)")
        + ": " + consequence + " Add " + spell(ports) + " to net.ipv4.ip_local_reserved_ports,"
        + " or move net.ipv4.ip_local_port_range off " + spell(ports) + ".");
  }

  /** Parses /proc/sys/net/ipv4/ip_local_port_range: two numbers separated by whitespace. */
  public static PortRange parseLocalPortRange(String procText) {
    String[] parts = procText.trim().split("\\s+");
    if (parts.length != 2) {
      throw new IllegalArgumentException("ip_local_port_range: expected two ports, got \""
          + procText.trim() + "\"");
    }
    return new PortRange(port(parts[0]), port(parts[1]));
  }

  /**
   * Parses /proc/sys/net/ipv4/ip_local_reserved_ports: comma-separated ports and ranges, e.g.
   * {@code 30000-32767,40000}; empty when nothing is reserved.
   */
  public static List<PortRange> parseReservedPorts(String procText) {
    String text = procText.trim();
    List<PortRange> reserved = new ArrayList<>();
    if (text.isEmpty()) {
      return reserved;
    }
    for (String item : text.split(",")) {
      String[] bounds = item.trim().split("-", -1);
      if (bounds.length == 1) {
        int p = port(bounds[0]);
        reserved.add(new PortRange(p, p));
      } else if (bounds.length == 2) {
        reserved.add(new PortRange(port(bounds[0]), port(bounds[1])));
      } else {
        throw new IllegalArgumentException("ip_local_reserved_ports: bad item \"" + item + "\"");
      }
    }
    return reserved;
  }

  // Always first-last, even for one port, so a range reads as a range in the message.
  private static String spell(PortRange range) {
    return range.first() + "-" + range.last();
  }

  private static int port(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a port: \"" + s + "\"", e);
    }
  }
}
