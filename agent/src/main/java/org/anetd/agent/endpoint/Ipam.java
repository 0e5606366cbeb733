package org.anetd.agent.endpoint;

import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.anetd.agent.datapath.Ipv4;

/**
 * Address decisions for one pod CIDR, free of I/O: {@link IpamStore} loads the allocations,
 * asks here, and persists the outcome.
 */
public final class Ipam {
  private Ipam() {}

  /** What {@link #allocate} decided. */
  public sealed interface Outcome {}

  /** The attachment already had this address (a retried ADD gets the same answer). */
  public record Reused(Allocation allocation) implements Outcome {}

  /** A new address, to be persisted before it is used. */
  public record Allocated(Allocation allocation) implements Outcome {}

  /** No free address; {@code message} says which pool, its size and how many are used. */
  public record Exhausted(String message) implements Outcome {}

  /**
   * The address for {@code key}: its existing one, else the lowest free pod address of
   * {@code cidr} (never the network, gateway-reserved or broadcast address).
   */
  public static Outcome allocate(PodCidr cidr, Collection<Allocation> current, AttachmentKey key,
      PodRef pod, Instant now) {
    Optional<Allocation> existing = find(current, key);
    if (existing.isPresent()) {
      return new Reused(existing.get());
    }
    Set<Ipv4> used = new HashSet<>();
    for (Allocation a : current) {
      used.add(a.address());
    }
    for (long bits = Integer.toUnsignedLong(cidr.firstPodAddress().bits());
        bits <= Integer.toUnsignedLong(cidr.lastPodAddress().bits()); bits++) {
      Ipv4 candidate = new Ipv4((int) bits);
      if (!used.contains(candidate)) {
        return new Allocated(new Allocation(candidate, key, pod, now));
      }
    }
    return new Exhausted(exhaustedMessage(cidr, current));
  }

  /**
   * The allocations of {@code wanted} that {@code current} lacks and can take: the attachment has
   * no address yet and the address is free (an allocation of another attachment stays). What the
   * agent's endpoint registry knows is put back into an IPAM store that lost it.
   */
  public static java.util.List<Allocation> adoptable(Collection<Allocation> current,
      Collection<Allocation> wanted) {
    Set<Ipv4> used = new HashSet<>();
    Set<AttachmentKey> keys = new HashSet<>();
    current.forEach(a -> {
      used.add(a.address());
      keys.add(a.key());
    });
    java.util.List<Allocation> out = new java.util.ArrayList<>();
    for (Allocation a : wanted) {
      if (!keys.contains(a.key()) && used.add(a.address())) {
        keys.add(a.key());
        out.add(a);
      }
    }
    return out;
  }

  public static Optional<Allocation> find(Collection<Allocation> current, AttachmentKey key) {
    return current.stream().filter(a -> a.key().equals(key)).findFirst();
  }

  /** How many allocations lie inside {@code cidr}'s pod addresses. */
  public static long usedIn(PodCidr cidr, Collection<Allocation> current) {
    return current.stream().filter(a -> cidr.isPodAddress(a.address())).count();
  }

  static String exhaustedMessage(PodCidr cidr, Collection<Allocation> current) {
    return "pod CIDR " + cidr + " is exhausted: " + usedIn(cidr, current) + " of "
        + cidr.poolSize() + " pod addresses are allocated (network, gateway "
        + cidr.gatewayReserved() + " and broadcast are reserved); delete pods, or look for"
        + " leaked allocations (IPAM garbage collection frees those of pods that no longer exist)";
  }
}
