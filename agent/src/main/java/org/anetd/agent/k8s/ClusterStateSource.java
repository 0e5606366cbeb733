package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.SharedInformerFactory;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the six kinds the compilers read and turns their informer events into immutable,
 * versioned {@link ClusterState} snapshots.
 *
 * <p>Informer handlers only queue the object they are given, mark their kind dirty and wake one
 * builder thread; they never read the caches, compile or block. The builder waits until every
 * informer has synced, then publishes a snapshot, and afterwards one snapshot per debounce window
 * in which something changed, so a burst of events becomes one snapshot. Only dirty kinds get a
 * new list; the others reuse the previous list object. Consumers poll with {@link #awaitNext}, which always returns the newest snapshot.
 *
 * <p>When the API server is unreachable the informers keep retrying with fabric8's backoff (also
 * before their first sync), {@link #health()} says which kinds are not watching and why, and
 * {@link #latest()} keeps returning the last snapshot so the datapath keeps its last state.
 */
public final class ClusterStateSource implements AutoCloseable {
  /**
   * Long enough to coalesce a burst (a rollout, a namespace deletion) into one snapshot, short
   * next to the change-to-datapath goal (a pass itself takes a few ms).
   */
  public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(5);

  private static final Logger log = LoggerFactory.getLogger(ClusterStateSource.class);
  /** Upper bound on a builder park: a missed wake-up costs at most this much latency. */
  private static final long MAX_PARK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /**
   * Whether the watched kinds can be trusted: {@code ready} when every informer has synced and is
   * watching; otherwise {@code notReadyKinds} names the others and {@code message} says why.
   */
  public record Health(boolean ready, List<String> notReadyKinds, String message) {
    public Health {
      notReadyKinds = List.copyOf(notReadyKinds);
    }
  }

  private final KubernetesClient client;
  private final String nodeName;
  private final long debounceNanos;
  private final SharedInformerFactory factory;
  private final Watched<Service> services;
  private final Watched<EndpointSlice> endpointSlices;
  private final Watched<Pod> pods;
  private final Watched<Namespace> namespaces;
  private final Watched<NetworkPolicy> networkPolicies;
  private final Watched<Node> nodes;
  private final List<Watched<?>> all;

  /** Set by handlers and lifecycle callbacks, cleared by the builder before it looks. */
  private final AtomicBoolean wakeUp = new AtomicBoolean();
  private final Thread builder;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean closed;

  /** Guards publication of {@link #latest} for {@link #awaitNext}. */
  private final Object published = new Object();
  private volatile ClusterState latest;
  /** Bumped by {@link #wakeConsumers()}; guarded by {@link #published}. */
  private long nudges;

  public ClusterStateSource(KubernetesClient client, String nodeName) {
    this(client, nodeName, DEFAULT_DEBOUNCE);
  }

  /**
   * Creates the informers without starting them.
   *
   * @param client the client to watch with; it stays owned by the caller
   * @param nodeName the node this agent runs on, carried in every snapshot
   * @param debounce how long the builder lets changes accumulate before it builds a snapshot
   */
  public ClusterStateSource(KubernetesClient client, String nodeName, Duration debounce) {
    this.client = Objects.requireNonNull(client, "client");
    this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
    if (debounce.isNegative()) {
      throw new IllegalArgumentException("debounce must not be negative: " + debounce);
    }
    this.debounceNanos = debounce.toNanos();
    this.factory = client.informers();
    this.services = watch(Service.class);
    this.endpointSlices = watch(EndpointSlice.class);
    this.pods = watch(Pod.class);
    this.namespaces = watch(Namespace.class);
    this.networkPolicies = watch(NetworkPolicy.class);
    this.nodes = watch(Node.class);
    this.all = List.of(services, endpointSlices, pods, namespaces, networkPolicies, nodes);
    this.builder = new Thread(this::buildLoop, "anetd-cluster-state");
    this.builder.setDaemon(true);
  }

  /** Starts the informers and the builder; returns at once (the first snapshot comes later). */
  public ClusterStateSource start() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (!started.compareAndSet(false, true)) {
      return this;
    }
    builder.start();
    for (Watched<?> w : all) {
      w.start();
    }
    return this;
  }

  /**
   * Waits for a snapshot newer than {@code lastVersion} and returns the newest one (intermediate
   * snapshots are skipped: a consumer only ever needs the current state). Empty when the timeout
   * passes first, {@link #wakeConsumers()} is called or the source is closed. Pass 0 to get the
   * first snapshot.
   */
  public Optional<ClusterState> awaitNext(long lastVersion, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (published) {
      long nudgesAtEntry = nudges;
      while (!closed && nudges == nudgesAtEntry
          && (latest == null || latest.version() <= lastVersion)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        TimeUnit.NANOSECONDS.timedWait(published, left);
      }
      ClusterState newest = latest;
      return newest != null && newest.version() > lastVersion
          ? Optional.of(newest)
          : Optional.empty();
    }
  }

  /**
   * Makes every {@link #awaitNext} waiting now return (empty unless a newer snapshot exists): a
   * consumer asked for work that does not come from a new snapshot.
   */
  public void wakeConsumers() {
    synchronized (published) {
      nudges++;
      published.notifyAll();
    }
  }

  /** The newest snapshot, if one was built; it stays available while the API is unreachable. */
  public Optional<ClusterState> latest() {
    return Optional.ofNullable(latest);
  }

  /** Ready when every informer has synced and is watching; otherwise names the kinds and why. */
  public Health health() {
    List<String> kinds = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    for (Watched<?> w : all) {
      w.problem().ifPresent(reason -> {
        kinds.add(w.kind);
        reasons.add(w.kind + " informer " + reason);
      });
    }
    return kinds.isEmpty()
        ? new Health(true, List.of(), "all " + all.size() + " informers synced and watching")
        : new Health(false, kinds, String.join("; ", reasons));
  }

  /** Stops the informers and the builder. The client is left open; {@link #latest()} remains. */
  @Override
  public void close() {
    closed = true;
    factory.stopAllRegisteredInformers();
    builder.interrupt();
    synchronized (published) {
      published.notifyAll();
    }
  }

  private <T extends HasMetadata> Watched<T> watch(Class<T> type) {
    // resync 0: a snapshot is rebuilt only on real changes, never on a timer.
    SharedIndexInformer<T> informer = factory.sharedIndexInformerFor(type, 0);
    informer.itemStore(new CompactingStore<>());
    return new Watched<>(type, informer);
  }

  private void wake() {
    wakeUp.set(true);
    LockSupport.unpark(builder);
  }

  private void buildLoop() {
    try {
      while (!allSynced()) {
        parkUntilWoken();
      }
      long version = 0;
      while (!closed) {
        // Wake-ups without a change (lifecycle callbacks, a notification for a change an earlier
        // listing already saw) must not cost consumers a pass over an identical snapshot.
        if (all.stream().anyMatch(w -> w.dirty.get())) {
          publish(build(++version));
        }
        parkUntilWoken();
        // Let the rest of a burst land in the caches so it becomes one snapshot.
        TimeUnit.NANOSECONDS.sleep(debounceNanos);
      }
    } catch (InterruptedException e) {
      // close() interrupts the builder; nothing to clean up.
    } catch (RuntimeException | Error e) {
      log.error("ClusterState builder died; no further snapshots will be published", e);
      throw e;
    }
  }

  private boolean allSynced() {
    return all.stream().allMatch(w -> w.informer.hasSynced());
  }

  private void parkUntilWoken() throws InterruptedException {
    while (!wakeUp.getAndSet(false)) {
      if (closed || Thread.interrupted()) {
        throw new InterruptedException();
      }
      LockSupport.parkNanos(this, MAX_PARK_NANOS);
    }
  }

  private ClusterState build(long version) {
    long began = System.nanoTime();
    ClusterState state = new ClusterState(version, nodeName, services.current(),
        endpointSlices.current(), pods.current(), namespaces.current(),
        networkPolicies.current(), nodes.current());
    if (log.isDebugEnabled()) {
      log.debug("Built ClusterState v{} in {} us: {} services, {} endpoint slices, {} pods, "
              + "{} namespaces, {} network policies, {} nodes", version,
          (System.nanoTime() - began) / 1000, state.services().size(),
          state.endpointSlices().size(), state.pods().size(), state.namespaces().size(),
          state.networkPolicies().size(), state.nodes().size());
    }
    return state;
  }

  private void publish(ClusterState state) {
    synchronized (published) {
      latest = state;
      published.notifyAll();
    }
  }

  /** The informative part of an informer error: the API status, else the innermost cause. */
  private static String describe(Throwable error) {
    if (error == null) {
      return "";
    }
    Throwable root = error;
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException api && api.getCode() > 0) {
        return ": HTTP " + api.getCode() + ": " + api.getMessage();
      }
      root = t;
    }
    return ": " + root;
  }

  /** The informer cache, holding objects as {@link CompactObjects} leaves them. */
  private static final class CompactingStore<T extends HasMetadata> extends BasicItemStore<T> {
    CompactingStore() {
      super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public T put(String key, T obj) {
      return super.put(key, CompactObjects.compact(obj));
    }
  }

  /** Where an object sorts in a snapshot list: namespace, then name. */
  private record SortKey(String namespace, String name) implements Comparable<SortKey> {
    static SortKey of(HasMetadata o) {
      return new SortKey(Objects.requireNonNullElse(o.getMetadata().getNamespace(), ""),
          Objects.requireNonNullElse(o.getMetadata().getName(), ""));
    }

    @Override
    public int compareTo(SortKey o) {
      int c = namespace.compareTo(o.namespace);
      return c != 0 ? c : name.compareTo(o.name);
    }
  }

  /**
   * One kind: its informer, whether it changed since the last snapshot, and its objects in
   * snapshot order. Handlers queue what they are told (the informer calls them in order, with
   * an add for every object of its first list); the builder applies the queue to a sorted map,
   * so a snapshot of 10,000 objects costs a copy, not a listing and a sort.
   */
  private final class Watched<T extends HasMetadata> {
    final String kind;
    final SharedIndexInformer<T> informer;
    final AtomicBoolean dirty = new AtomicBoolean(true);
    final AtomicReference<Throwable> lastError = new AtomicReference<>();
    /** Objects as the handlers saw them; a null object is a deletion. */
    private final ConcurrentLinkedQueue<Map.Entry<SortKey, Optional<T>>> changes =
        new ConcurrentLinkedQueue<>();
    /** Touched only by the builder thread. */
    private final TreeMap<SortKey, T> objects = new TreeMap<>();
    private boolean seeded;
    List<T> sorted = List.of();

    Watched(Class<T> type, SharedIndexInformer<T> informer) {
      this.kind = HasMetadata.getKind(type);
      this.informer = informer;
      informer.addEventHandler(new Follow());
      // fabric8's default gives up when the first list fails (API server down at agent start);
      // an agent must keep trying and report it instead. Its backoff paces the retries. A closed
      // client can never succeed: stop, so that health says "stopped" rather than "retrying".
      informer.exceptionHandler((isStarted, t) -> {
        lastError.set(t);
        return !closed && !client.getHttpClient().isClosed();
      });
    }

    void start() {
      informer.start().whenComplete((ignored, error) -> wake());
      informer.stopped().whenComplete((ignored, error) -> {
        if (error != null) {
          lastError.set(error);
          log.error("{} informer stopped: {}", kind, error.toString());
        } else if (!closed) {
          log.warn("{} informer stopped", kind);
        }
        wake();
      });
    }

    /** The kind's objects sorted by namespace and name, rebuilt only if it changed. */
    List<T> current() {
      // Clear before draining: a change queued meanwhile marks it dirty again.
      boolean changed = dirty.getAndSet(false);
      if (!seeded) {
        // The first snapshot must hold everything that exists (a restarted agent removes what
        // its snapshot lacks), and the informer may still be delivering its first adds: start
        // from its cache. Queued events then apply on top, in order.
        informer.getStore().list().forEach(o -> objects.put(SortKey.of(o), o));
        seeded = true;
        changed = true;
      }
      for (Map.Entry<SortKey, Optional<T>> c; (c = changes.poll()) != null; ) {
        if (c.getValue().isPresent()) {
          objects.put(c.getKey(), c.getValue().get());
        } else {
          objects.remove(c.getKey());
        }
      }
      if (changed) {
        sorted = List.copyOf(objects.values());
      }
      return sorted;
    }

    Optional<String> problem() {
      CompletableFuture<Void> stopped = informer.stopped().toCompletableFuture();
      if (stopped.isDone()) {
        return Optional.of("stopped" + describe(lastError.get()));
      }
      if (!informer.hasSynced()) {
        return Optional.of("not synced" + describe(lastError.get()));
      }
      if (!informer.isWatching()) {
        return Optional.of("not watching" + describe(lastError.get()));
      }
      return Optional.empty();
    }

    /** Queues what changed and wakes the builder; never reads the cache or builds anything. */
    private final class Follow implements ResourceEventHandler<T> {
      @Override
      public void onAdd(T obj) {
        changes.add(Map.entry(SortKey.of(obj), Optional.of(obj)));
        markDirty();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        changes.add(Map.entry(SortKey.of(newObj), Optional.of(newObj)));
        // Relists after a reconnect replay unchanged objects as updates: they replace the
        // cached copy (so the old one can go) but are no reason for a snapshot.
        if (!Objects.equals(oldObj.getMetadata().getResourceVersion(),
            newObj.getMetadata().getResourceVersion())) {
          markDirty();
        }
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changes.add(Map.entry(SortKey.of(obj), Optional.empty()));
        markDirty();
      }

      private void markDirty() {
        dirty.set(true);
        wake();
      }
    }
  }
}
