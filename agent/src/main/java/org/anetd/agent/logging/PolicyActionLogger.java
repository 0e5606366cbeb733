package org.anetd.agent.logging;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.anetd.agent.datapath.Event;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.PolicyEntry;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.logging.LoggingSettings.DispositionSettings;
import org.anetd.agent.logging.PolicyActionRecord.Connection;
import org.anetd.agent.logging.PolicyActionRecord.Direction;
import org.anetd.agent.logging.PolicyActionRecord.Disposition;
import org.anetd.agent.logging.PolicyActionRecord.PolicyRef;
import org.anetd.agent.logging.PolicyLoggingCounters.DropReason;

/**
 * Turns the datapath's policy verdict events into policy action records: the entry point of the
 * logging room.
 *
 * <ul>
 *   <li><b>Allow</b>: one record per event. The datapath emits a verdict only for the first packet
 *       of a connection (later packets hit conntrack), so that is one record per connection.
 *   <li><b>Deny</b>: denied packets have no conntrack entry, so every retry is an event. They are
 *       aggregated per connection with the source port zeroed, over a window of {@link
 *       Options#denyWindow} (5 s) from the first packet; the record, stamped with the first
 *       packet's time and {@code count} = packets, is emitted when the window closes.
 *   <li><b>Settings</b> ({@link LoggingSettings}) are applied when a record would start: to each
 *       allow event, to the first packet of a deny window.
 *   <li><b>Rate limit</b>: a token bucket of {@link Options#recordsPerSecond} (500/s per node by
 *       default) over every emitted record. Records over it are dropped and counted ({@code
 *       rate_limit}), as are records the writer's queue refuses ({@code queue_full}).
 * </ul>
 *
 * <p>Threading: one thread (the ring buffer reader) calls {@link #onEvent} and {@link #tick}; the
 * class holds no locks. Call {@link #tick} at least every second even when no events come, or
 * deny windows close late. Time comes from an injected wall {@link Clock} (timestamps) and a
 * monotonic nanosecond ticker (windows, rate limit) in the clock domain of event timestamps
 * ({@code bpf_ktime_get_coarse_ns()}, CLOCK_MONOTONIC at tick resolution): {@code
 * System::nanoTime} on Linux HotSpot.
 */
public final class PolicyActionLogger {
  /** An event older than this (by the ticker) is stamped "now": the clocks disagree. */
  static final long MAX_EVENT_AGE_NANOS = Duration.ofMinutes(1).toNanos();

  /**
   * Tunables. {@code burst} is how many records the bucket saves up (one second's worth by
   * default); {@code maxOpenDenyWindows} bounds memory under a flood of distinct sources.
   */
  public record Options(Duration denyWindow, int recordsPerSecond, int burst,
      int maxOpenDenyWindows) {
    public static final Duration DEFAULT_DENY_WINDOW = Duration.ofSeconds(5);
    public static final int DEFAULT_RECORDS_PER_SECOND = 500;
    public static final int DEFAULT_MAX_OPEN_DENY_WINDOWS = 65_536;

    public static Options defaults() {
      return new Options(DEFAULT_DENY_WINDOW, DEFAULT_RECORDS_PER_SECOND,
          DEFAULT_RECORDS_PER_SECOND, DEFAULT_MAX_OPEN_DENY_WINDOWS);
    }

    /** A rate limit of {@code perSecond}, with one second's worth of burst. */
    public Options withRecordsPerSecond(int perSecond) {
      return new Options(denyWindow, perSecond, perSecond, maxOpenDenyWindows);
    }
  }

  private final Supplier<LoggingContext> context;
  private final PolicyActionSink sink;
  private final PolicyLoggingCounters counters;
  private final Clock clock;
  private final LongSupplier monotonicNanos;
  private final DenyWindows denyWindows;
  private final TokenBucket bucket;
  private SnapshotIndex index;

  /**
   * @param context the current snapshot, policy sets and settings; read once per event
   * @param sink where records go (the writer's queue)
   * @param counters shared with the writer and the metrics
   * @param clock wall time, for record timestamps
   * @param monotonicNanos CLOCK_MONOTONIC nanoseconds, the clock of event timestamps
   */
  public PolicyActionLogger(Supplier<LoggingContext> context, PolicyActionSink sink,
      PolicyLoggingCounters counters, Clock clock, LongSupplier monotonicNanos,
      Options options) {
    this.context = Objects.requireNonNull(context, "context");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.counters = Objects.requireNonNull(counters, "counters");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.monotonicNanos = Objects.requireNonNull(monotonicNanos, "monotonicNanos");
    this.denyWindows = new DenyWindows(options.denyWindow().toNanos(),
        options.maxOpenDenyWindows());
    this.bucket = new TokenBucket(options.recordsPerSecond(), options.burst(), monotonicNanos);
  }

  /** Takes one decoded ring buffer event; anything but a policy verdict is ignored. */
  public void onEvent(Event e) {
    if (e.type() != Event.TYPE_POLICY_VERDICT) {
      return;
    }
    long now = monotonicNanos.getAsLong();
    emit(denyWindows.closeDue(now));
    Direction direction = direction(e.direction());
    if (direction == null) {
      counters.recordUnreadableEvent();
      return;
    }
    LoggingContext ctx = context.get();
    Connection connection = connection(e, direction);
    if (e.allowed()) {
      allowed(ctx, e, connection);
    } else {
      denied(ctx, e, connection, now);
    }
  }

  /** Closes the deny windows whose time is up. Call at least once a second. */
  public void tick() {
    emit(denyWindows.closeDue(monotonicNanos.getAsLong()));
  }

  /** Closes every open deny window now, e.g. before shutdown. */
  public void flush() {
    emit(denyWindows.closeAll());
  }

  public int openDenyWindows() {
    return denyWindows.size();
  }

  private void allowed(LoggingContext ctx, Event e, Connection connection) {
    DispositionSettings settings = ctx.settings().allow();
    if (!settings.log()) {
      return;
    }
    if (e.policySetId() == PolicyEntry.NODE_LOCAL_POLICY_SET) {
      // allowed by Kubernetes' own rule (a pod and its node), not by a policy: known by its
      // fixed id, also before the first pass after a restart has given the logger any sets
      return;
    }
    List<ObjectRef> allowing = ctx.policySets().get(e.policySetId());
    SnapshotIndex idx = index(ctx.state());
    // An id missing from the map is a verdict from maps written for another snapshot: the
    // connection was allowed, but by policies this snapshot cannot name.
    List<ObjectRef> refs = allowing == null ? List.of() : allowing;
    if (settings.delegate() && refs.stream().noneMatch(idx::loggingEnabled)) {
      return;
    }
    emit(new PolicyActionRecord(connection, Disposition.ALLOW,
        refs.stream().map(PolicyActionLogger::policyRef).toList(),
        idx.resolver().resolve(connection.srcIp()), idx.resolver().resolve(connection.destIp()),
        1, ctx.state().nodeName(), seenAt(e)));
  }

  private void denied(LoggingContext ctx, Event e, Connection connection, long now) {
    DispositionSettings settings = ctx.settings().deny();
    if (!settings.log()) {
      return;
    }
    Connection key = connection.withoutSourcePort();
    if (denyWindows.countIfOpen(key)) {
      return;
    }
    SnapshotIndex idx = index(ctx.state());
    if (settings.delegate()) {
      // The denied pod is the local endpoint: the destination on ingress, the source on egress.
      Ipv4 local = key.direction() == Direction.INGRESS ? key.destIp() : key.srcIp();
      String ns = idx.resolver().pod(local).map(p -> p.getMetadata().getNamespace()).orElse(null);
      if (ns == null || !idx.denyLoggingNamespaces().contains(ns)) {
        return;
      }
    }
    emit(denyWindows.open(key, now, () -> new PolicyActionRecord(key, Disposition.DENY,
        List.of(), idx.resolver().resolve(key.srcIp()), idx.resolver().resolve(key.destIp()), 1,
        ctx.state().nodeName(), seenAt(e))));
  }

  private void emit(List<PolicyActionRecord> records) {
    records.forEach(this::emit);
  }

  private void emit(PolicyActionRecord r) {
    counters.recordGenerated();
    if (!bucket.tryAcquire()) {
      counters.recordDropped(DropReason.RATE_LIMIT, 1);
    } else if (!sink.offer(r)) {
      counters.recordDropped(DropReason.QUEUE_FULL, 1);
    }
  }

  /** The wall time the event happened: now, minus how long it waited in the ring buffer. */
  private Instant seenAt(Event e) {
    Instant now = clock.instant();
    long age = monotonicNanos.getAsLong() - e.timestampNs();
    return age >= 0 && age <= MAX_EVENT_AGE_NANOS ? now.minusNanos(age) : now;
  }

  private SnapshotIndex index(ClusterState state) {
    if (index == null || index.state() != state) {
      index = SnapshotIndex.of(state);
    }
    return index;
  }

  private static Direction direction(int datapathDirection) {
    return switch (datapathDirection) {
      case PolicyKey.DIR_INGRESS -> Direction.INGRESS;
      case PolicyKey.DIR_EGRESS -> Direction.EGRESS;
      default -> null;
    };
  }

  /** ICMP has no ports; whatever the datapath put there (id, type) would only split aggregation. */
  private static Connection connection(Event e, Direction direction) {
    boolean ports = e.protocol() != Protocol.ICMP;
    return new Connection(e.saddr(), e.daddr(), ports ? e.sport() : 0, ports ? e.dport() : 0,
        e.protocol(), direction);
  }

  private static PolicyRef policyRef(ObjectRef ref) {
    String kind = ref.kind() == null || ref.kind().isEmpty() ? PolicyRef.NETWORK_POLICY
        : ref.kind();
    return new PolicyRef(ref.name(), ref.namespace(), kind);
  }

  /** What the logger derives from one snapshot, built once per snapshot. */
  private record SnapshotIndex(ClusterState state, EndpointResolver resolver,
      Set<String> loggingPolicies, Set<String> denyLoggingNamespaces) {
    static SnapshotIndex of(ClusterState state) {
      Set<String> policies = state.networkPolicies().stream()
          .filter(p -> annotated(p, LoggingSettings.ENABLE_LOGGING))
          .map(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName())
          .collect(Collectors.toUnmodifiableSet());
      Set<String> namespaces = state.namespaces().stream()
          .filter(n -> annotated(n, LoggingSettings.ENABLE_DENY_LOGGING))
          .map(n -> n.getMetadata().getName()).collect(Collectors.toUnmodifiableSet());
      return new SnapshotIndex(state, EndpointResolver.of(state), policies, namespaces);
    }

    boolean loggingEnabled(ObjectRef policy) {
      return loggingPolicies.contains(policy.namespace() + "/" + policy.name());
    }

    /** GKE's annotations take the string "true" exactly. */
    private static boolean annotated(HasMetadata o, String annotation) {
      Map<String, String> a = o.getMetadata().getAnnotations();
      return a != null && "true".equals(a.get(annotation));
    }
  }
}
