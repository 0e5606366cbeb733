package org.anetd.agent.lab;

import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.anetd.agent.datapath.Ipv4;

/**
 * ClusterIP and NodePort allocation, as the API server's allocators do it (pure): the lowest free
 * value. ClusterIPs come from the service CIDR without its network address and its first address
 * (kept for the {@code kubernetes} service, as in a real cluster) and its broadcast address.
 */
public final class Allocators {
  /** The lab's service CIDR. */
  public static final String SERVICE_CIDR = "198.19.0.0/16";

  private Allocators() {}

  /** The lowest free ClusterIP of {@code cidr} (a.b.c.d/n), or empty when all are taken. */
  public static Optional<String> clusterIp(String cidr, Collection<String> used) {
    String[] parts = cidr.split("/");
    int prefix = Integer.parseInt(parts[1]);
    long network = Integer.toUnsignedLong(Ipv4.parse(parts[0]).bits());
    long size = 1L << (32 - prefix);
    Set<String> taken = new HashSet<>(used);
    for (long a = network + 2; a < network + size - 1; a++) {
      String candidate = new Ipv4((int) a).toString();
      if (!taken.contains(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The lowest free port of [first, last], or empty when all are taken. */
  public static Optional<Integer> nodePort(int first, int last, Collection<Integer> used) {
    Set<Integer> taken = new HashSet<>(used);
    for (int p = first; p <= last; p++) {
      if (!taken.contains(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
