package org.anetd.agent.k8s;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;

/** Waiting for snapshots in mock tests, through the public {@link ClusterStateSource} API. */
final class Snapshots {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private Snapshots() {}

  /** The first snapshot, or a failure naming what the source reported instead. */
  static ClusterState first(ClusterStateSource source) throws InterruptedException {
    return source.awaitNext(0, TIMEOUT).orElseThrow(() -> new AssertionError(
        "no first snapshot within " + TIMEOUT + "; health: " + source.health()));
  }

  static String describe(ClusterState s) {
    if (s == null) {
      return "none";
    }
    return "v" + s.version() + " services=" + K8sObjects.namespacedNames(s.services())
        + " endpointSlices=" + K8sObjects.namespacedNames(s.endpointSlices())
        + " networkPolicies=" + K8sObjects.namespacedNames(s.networkPolicies())
        + " pods=" + K8sObjects.namespacedNames(s.pods())
        + " namespaces=" + K8sObjects.names(s.namespaces())
        + " nodes=" + K8sObjects.names(s.nodes());
  }

  /**
   * The first snapshot, returned once every informer also watches. The mock's watch does not
   * replay changes made between an informer's list and its watch (a real API server does, from
   * the list's resourceVersion), so tests change objects only after this.
   */
  static ClusterState firstWhileWatching(ClusterStateSource source) throws InterruptedException {
    ClusterState state = first(source);
    await().atMost(TIMEOUT).until(() -> source.health().ready());
    return state;
  }

  /** The first snapshot (the newest at each step) that satisfies {@code condition}. */
  static ClusterState awaitState(ClusterStateSource source, Predicate<ClusterState> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    long seen = 0;
    ClusterState last = null;
    while (true) {
      Optional<ClusterState> next =
          source.awaitNext(seen, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      if (next.isEmpty()) {
        throw new AssertionError("no matching snapshot within " + TIMEOUT + "; last: "
            + describe(last) + "; health: " + source.health());
      }
      if (condition.test(next.get())) {
        return next.get();
      }
      last = next.get();
      seen = last.version();
    }
  }
}
