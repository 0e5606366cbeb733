package org.anetd.agent.daemon;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.endpoint.AttachmentKey;
import org.anetd.agent.endpoint.CniError;
import org.anetd.agent.endpoint.CniException;
import org.anetd.agent.endpoint.Endpoint;
import org.anetd.agent.endpoint.EndpointPublisher;
import org.anetd.agent.endpoint.EndpointRegistry;

/**
 * Joins the endpoint room to the reconcile loop, keeping the reconciler the only writer of the
 * ipcache and policy maps. The registry is the agent's {@link LocalEndpoints}; a published
 * endpoint asks for a pass and ADD waits (at most {@link #PUBLISH_TIMEOUT}) until a pass wrote
 * its ipcache entry with its endpoint id (policy entries are written in the same pass), as
 * Cilium's CNI ADD waits for the endpoint's first regeneration. A withdrawn endpoint leaves the
 * view at once, before DEL has removed it from the registry, and asks for a pass.
 */
final class EndpointSync implements EndpointPublisher, LocalEndpoints {
  static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration REREQUEST = Duration.ofMillis(500);

  /** What the loop offers: a pass on request, pass numbers, and the ipcache as written. */
  interface Loop {
    void requestReconcile();

    Passes passes();

    Optional<Ipcache4Value> ipcache(Ipv4 address);
  }

  private final EndpointRegistry registry;
  private final Loop loop;
  private final Duration timeout;
  private final Set<AttachmentKey> withdrawn = ConcurrentHashMap.newKeySet();

  EndpointSync(EndpointRegistry registry, Loop loop, Duration timeout) {
    this.registry = registry;
    this.loop = loop;
    this.timeout = timeout;
  }

  @Override
  public Map<String, Integer> current() {
    return view().ids();
  }

  /** Endpoints of known pods, keyed by namespace/name (the registry has no UIDs). */
  @Override
  public View view() {
    Map<String, Integer> ids = new HashMap<>();
    Map<String, Ipv4> addresses = new HashMap<>();
    Set<AttachmentKey> present = new java.util.HashSet<>();
    for (Endpoint e : registry.all()) {
      present.add(e.key());
      if (!e.pod().isKnown() || withdrawn.contains(e.key())) {
        continue;
      }
      String key = e.pod().namespace() + "/" + e.pod().name();
      ids.put(key, e.id());
      addresses.put(key, e.address());
    }
    withdrawn.retainAll(present);
    return new View(ids, addresses);
  }

  @Override
  public void publish(Endpoint endpoint) {
    withdrawn.remove(endpoint.key());
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long ticket = loop.passes().ticket();
        loop.requestReconcile();
        long wait = Math.min(deadline, System.nanoTime() + REREQUEST.toNanos());
        if (loop.passes().awaitSucceededAfter(ticket, wait)
            && (!endpoint.pod().isKnown() || written(endpoint))) {
          return;
        }
        if (System.nanoTime() - deadline >= 0) {
          throw timedOut(endpoint);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CniException(CniError.TRY_AGAIN_LATER, "anetd is stopping", null);
    }
  }

  private CniException timedOut(Endpoint e) {
    String failure = loop.passes().lastFailure();
    return new CniException(CniError.TRY_AGAIN_LATER, "anetd did not write the policy of pod "
        + e.pod() + " in " + timeout.toSeconds() + " s", failure != null
        ? "reconciling fails: " + failure
        : "no ipcache entry for " + e.address() + " with endpoint " + e.id()
            + ": the pod is not in the agent's view of the API server yet");
  }

  private boolean written(Endpoint e) {
    return loop.ipcache(e.address()).map(v -> v.endpointId() == e.id()).orElse(false);
  }

  @Override
  public void withdraw(Endpoint endpoint) {
    withdrawn.add(endpoint.key());
    loop.requestReconcile();
  }

  @Override
  public List<String> problems(Endpoint e) {
    // The ipcache is a longest-prefix-match map: a lookup finds at worst the world entry.
    if (e.pod().isKnown() && !written(e)) {
      return List.of("the ipcache has no entry for " + e.address() + " with endpoint " + e.id()
          + " (found " + loop.ipcache(e.address()).map(Object::toString).orElse("nothing") + ")");
    }
    return List.of();
  }
}
