package org.anetd.agent.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides which allocations leaked: their pod is gone (a crash between ADD and the runtime
 * recording it, a DEL that never came). Left alone such leaks fill the range until ADD fails
 * with GKE's known "failed to allocate for range 0".
 *
 * <p>An allocation is alive when a live pod has its sandbox (container) id, or, when the source
 * of the live set does not know sandbox ids, when a live pod has its namespace/name. Young
 * allocations are always kept: an ADD in flight allocates before its pod shows up anywhere.
 */
public final class IpamGarbageCollector {
  private IpamGarbageCollector() {}

  /** The allocations to free, in the order given. */
  public static List<Allocation> toFree(Collection<Allocation> allocations,
      Collection<LivePod> live, Instant now, Duration grace) {
    Set<String> liveContainers = new HashSet<>();
    Set<PodRef> livePodsWithoutSandbox = new HashSet<>();
    for (LivePod p : live) {
      if (p.containerId() != null && !p.containerId().isEmpty()) {
        liveContainers.add(p.containerId());
      } else {
        livePodsWithoutSandbox.add(new PodRef(p.namespace(), p.name()));
      }
    }
    Instant cutoff = now.minus(grace);
    return allocations.stream()
        .filter(a -> !a.allocatedAt().isAfter(cutoff))
        .filter(a -> !liveContainers.contains(a.key().containerId()))
        .filter(a -> !(a.pod().isKnown() && livePodsWithoutSandbox.contains(a.pod())))
        .toList();
  }
}
