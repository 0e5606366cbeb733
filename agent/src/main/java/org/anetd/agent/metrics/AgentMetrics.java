package org.anetd.agent.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The agent's metrics. Names follow Cilium's where one exists (prefixed {@code anetd_}), so
 * dashboards translate; the datapath's own counters are read from the per-CPU metrics map at
 * scrape time through {@link #datapathCounters}.
 */
public final class AgentMetrics {
  /** Packet and byte counts of one (reason, direction) bucket of the datapath. */
  public record DatapathCount(String reason, String direction, long packets, long bytes) {}

  private final PrometheusRegistry registry;
  private final Gauge mapEntries;
  private final Gauge mapCapacity;
  private final Gauge mapFillRatio;
  private final Histogram reconcileDuration;
  private final Counter reconcileTotal;
  private final Counter apiEvents;
  private final Counter problems;
  private final Counter configRejections;
  private final Counter conntrackGcDeleted;

  public AgentMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    mapEntries = Gauge.builder().name("anetd_bpf_map_entries")
        .help("Entries in a datapath map, as last written by the agent")
        .labelNames("map").register(registry);
    mapCapacity = Gauge.builder().name("anetd_bpf_map_capacity")
        .help("Maximum entries of a datapath map").labelNames("map").register(registry);
    mapFillRatio = Gauge.builder().name("anetd_bpf_map_pressure")
        .help("Fill ratio of a datapath map (entries / capacity), 0..1")
        .labelNames("map").register(registry);
    reconcileDuration = Histogram.builder().name("anetd_reconcile_duration_seconds")
        .help("Time from a cluster state snapshot to its maps written")
        .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
        .register(registry);
    reconcileTotal = Counter.builder().name("anetd_reconcile_total")
        .help("Reconcile passes by outcome").labelNames("outcome").register(registry);
    apiEvents = Counter.builder().name("anetd_k8s_events_total")
        .help("Watch events received from the API server").labelNames("kind", "type")
        .register(registry);
    problems = Counter.builder().name("anetd_problems_total")
        .help("Objects or config values skipped or degraded, by reason").labelNames("reason")
        .register(registry);
    configRejections = Counter.builder().name("anetd_config_rejections_total")
        .help("cilium-config versions rejected (the last good config stayed in force)")
        .register(registry);
    conntrackGcDeleted = Counter.builder().name("anetd_conntrack_gc_deleted_total")
        .help("Conntrack entries whose lifetime had ended, deleted by the agent's GC")
        .labelNames("map").register(registry);
  }

  public static AgentMetrics create() {
    return new AgentMetrics(new PrometheusRegistry());
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void mapState(String map, long entries, long capacity) {
    mapEntries.labelValues(map).set(entries);
    mapCapacity.labelValues(map).set(capacity);
    mapFillRatio.labelValues(map).set(capacity == 0 ? 0 : (double) entries / capacity);
  }

  public void reconciled(double seconds, boolean ok) {
    reconcileDuration.observe(seconds);
    reconcileTotal.labelValues(ok ? "success" : "failure").inc();
  }

  public void apiEvent(String kind, String type) {
    apiEvents.labelValues(kind, type).inc();
  }

  public void problem(String reason) {
    problems.labelValues(reason).inc();
  }

  public void conntrackGc(String map, int deleted) {
    conntrackGcDeleted.labelValues(map).inc(deleted);
  }

  public void configRejected() {
    configRejections.inc();
  }

  /**
   * Exports the datapath's per-reason counters, read when Prometheus scrapes: one read of the map
   * serves both metrics of a scrape (their callbacks run one after the other), see
   * {@link #oneReadPerScrape}.
   */
  public void datapathCounters(Supplier<Iterable<DatapathCount>> reader) {
    datapathCounters(reader, System::nanoTime);
  }

  void datapathCounters(Supplier<Iterable<DatapathCount>> reader, LongSupplier nanoClock) {
    Supplier<Iterable<DatapathCount>> snapshot = oneReadPerScrape(reader, nanoClock);
    CounterWithCallback.builder().name("anetd_datapath_packets_total")
        .help("Packets seen by the datapath by verdict reason and direction")
        .labelNames("reason", "direction")
        .callback(cb -> snapshot.get().forEach(c -> cb.call(c.packets(), c.reason(), c.direction())))
        .register(registry);
    CounterWithCallback.builder().name("anetd_datapath_bytes_total")
        .help("Bytes seen by the datapath by verdict reason and direction")
        .labelNames("reason", "direction")
        .callback(cb -> snapshot.get().forEach(c -> cb.call(c.bytes(), c.reason(), c.direction())))
        .register(registry);
  }

  /**
   * {@code reader}, whose result is reused for {@link #SCRAPE_SNAPSHOT_NANOS}: the packets and
   * bytes of one scrape come from one read of the per-CPU map (a lookup per slot), so they agree
   * with each other and the map is read once instead of twice. Scrapes come seconds apart.
   */
  static Supplier<Iterable<DatapathCount>> oneReadPerScrape(
      Supplier<Iterable<DatapathCount>> reader, LongSupplier nanoClock) {
    return new Supplier<>() {
      private Iterable<DatapathCount> last;
      private long readAt;

      @Override
      public synchronized Iterable<DatapathCount> get() {
        long now = nanoClock.getAsLong();
        if (last == null || now - readAt >= SCRAPE_SNAPSHOT_NANOS) {
          last = reader.get();
          readAt = now;
        }
        return last;
      }
    };
  }

  /** How long one read of the datapath counters serves the metrics of a scrape. */
  static final long SCRAPE_SNAPSHOT_NANOS = 500_000_000L;

  /** For tests: cilium-config versions rejected so far. */
  public double configRejections() {
    return configRejections.get();
  }

  /** For tests and `anetd status`: current value of a labelled counter. */
  public double problemCount(String reason) {
    return problems.labelValues(reason).get();
  }

}
