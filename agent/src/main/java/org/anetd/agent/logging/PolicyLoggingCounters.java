package org.anetd.agent.logging;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What happened to every policy action record, shared by the logger (reader thread) and the
 * writer (writer thread). Once the writer's queue is empty, {@code generated == written +
 * dropped} exactly: no record leaves the pipeline uncounted.
 */
public final class PolicyLoggingCounters {
  /** Why a generated record never reached the log file; the metric's {@code reason} label. */
  public enum DropReason {
    /** Over the per-node records-per-second limit. */
    RATE_LIMIT,
    /** The writer's queue was full (the disk or the writer thread fell behind). */
    QUEUE_FULL,
    /** Writing or rotating the file failed; the writer reopens the file for the next batch. */
    WRITE_ERROR;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final AtomicLong generated = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final Map<DropReason, AtomicLong> dropped = new EnumMap<>(DropReason.class);
  private final AtomicLong unreadableEvents = new AtomicLong();

  public PolicyLoggingCounters() {
    for (DropReason r : DropReason.values()) {
      dropped.put(r, new AtomicLong());
    }
  }

  void recordGenerated() {
    generated.incrementAndGet();
  }

  void recordWritten(long records) {
    written.addAndGet(records);
  }

  void recordDropped(DropReason reason, long records) {
    dropped.get(reason).addAndGet(records);
  }

  void recordUnreadableEvent() {
    unreadableEvents.incrementAndGet();
  }

  /** Records produced by the logger (after settings and aggregation, before the rate limit). */
  public long generated() {
    return generated.get();
  }

  /** Records whose line reached the log file. */
  public long written() {
    return written.get();
  }

  public long dropped() {
    return dropped.values().stream().mapToLong(AtomicLong::get).sum();
  }

  public long dropped(DropReason reason) {
    return dropped.get(reason).get();
  }

  /** Verdict events the logger could not read (a direction that is neither ingress nor egress). */
  public long unreadableEvents() {
    return unreadableEvents.get();
  }

  /**
   * Exports the counters, read at scrape time. Counter names get {@code _total} appended in the
   * exposition: {@code policy_logging_drop_count_total{reason="rate_limit"}} (the name GKE uses).
   */
  public void register(PrometheusRegistry registry) {
    CounterWithCallback.builder().name("policy_logging_drop_count")
        .help("Policy action log records dropped, by reason (rate_limit, queue_full, write_error)")
        .labelNames("reason")
        .callback(cb -> dropped.forEach((r, n) -> cb.call(n.get(), r.label())))
        .register(registry);
    CounterWithCallback.builder().name("anetd_policy_logging_records_generated")
        .help("Policy action log records generated (written + dropped + queued)")
        .callback(cb -> cb.call(generated.get())).register(registry);
    CounterWithCallback.builder().name("anetd_policy_logging_records_written")
        .help("Policy action log records written to the log file")
        .callback(cb -> cb.call(written.get())).register(registry);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("generated=" + generated() + " written=" + written());
    dropped.forEach((r, n) -> s.append(' ').append(r.label()).append('=').append(n.get()));
    return s.toString();
  }
}
