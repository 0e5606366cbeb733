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

  /** {@link #allocate(PodCidr, Collection, AttachmentKey, PodRef, Instant, Optional)} from the start. */
  public static Outcome allocate(PodCidr cidr, Collection<Allocation> current, AttachmentKey key,
      PodRef pod, Instant now) {
    return allocate(cidr, current, key, pod, now, Optional.empty());
  }

  /**
   * The address for {@code key}: its existing one, else the first free pod address of {@code cidr}
   * after {@code lastAllocated} (the last address handed out), wrapping round to the lowest
   * (never the network, gateway-reserved or broadcast address). Going round the range, as CNI's
   * host-local does, keeps a just-freed address out of use as long as others are free: whatever
   * still names the old pod's address for a while (an EndpointSlice not yet updated, a peer's
   * cached connection) does not reach a new pod.
   */
  public static Outcome allocate(PodCidr cidr, Collection<Allocation> current, AttachmentKey key,
      PodRef pod, Instant now, Optional<Ipv4> lastAllocated) {
    Optional<Allocation> existing = find(current, key);
    if (existing.isPresent()) {
      return new Reused(existing.get());
    }
    Set<Ipv4> used = new HashSet<>();
    for (Allocation a : current) {
      used.add(a.address());
    }
    long first = Integer.toUnsignedLong(cidr.firstPodAddress().bits());
    long last = Integer.toUnsignedLong(cidr.lastPodAddress().bits());
    long start = lastAllocated.map(a -> Integer.toUnsignedLong(a.bits()) + 1)
        .filter(b -> b >= first && b <= last).orElse(first);
    for (long i = 0; i <= last - first; i++) {
      long bits = start + i > last ? start + i - (last - first + 1) : start + i;
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
