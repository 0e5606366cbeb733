package org.anetd.agent.policy;

import java.util.List;
import java.util.stream.Collectors;
import org.anetd.agent.datapath.Ipv4;

/**
 * A validated IPv4 NetworkPolicy ipBlock: {@code cidr} minus every {@code except} prefix (each
 * strictly inside {@code cidr}). Its {@link #label()} names it in identity label sets.
 */
public record IpBlock(Cidr cidr, List<Cidr> except) implements Comparable<IpBlock> {
  public IpBlock {
    except = except.stream().distinct().sorted().toList();
    for (Cidr e : except) {
      if (!cidr.contains(e) || e.length() == cidr.length()) {
        throw new IllegalArgumentException("except " + e + " is not strictly inside " + cidr);
      }
    }
  }

  public boolean matches(Ipv4 ip) {
    return cidr.contains(ip) && except.stream().noneMatch(e -> e.contains(ip));
  }

  /**
   * True when the addresses of {@code region} that no longer known prefix claims all match: the
   * region is inside {@code cidr} and not inside any except. Exact when every block's cidr and
   * excepts are themselves known prefixes (see package-info).
   */
  public boolean matchesRegion(Cidr region) {
    return cidr.contains(region) && except.stream().noneMatch(e -> e.contains(region));
  }

  /** Identity label: {@code cidr:10.0.0.0/16} or {@code cidr:10.0.0.0/16!10.0.1.0/24,...}. */
  public String label() {
    return except.isEmpty() ? "cidr:" + cidr
        : "cidr:" + cidr + "!" + except.stream().map(Cidr::toString).collect(Collectors.joining(","));
  }

  @Override
  public int compareTo(IpBlock o) {
    return label().compareTo(o.label());
  }

  @Override
  public String toString() {
    return except.isEmpty() ? cidr.toString() : cidr + " except " + except;
  }
}
