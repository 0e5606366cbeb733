package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.anetd.agent.bpf.BpfMap;

/**
 * Keeps one map equal to a desired content by writing only differences. It remembers what it last
 * wrote; at construction it adopts what the map already holds (pinned maps survive restarts), so
 * a restarted agent rewrites nothing that is already right and removes only stale entries.
 *
 * <p>Writes are split into {@link #upsert} and {@link #deleteStale} so that a reconciler can order
 * steps across maps (and across entry kinds of one map) to keep every intermediate state safe.
 * When a write fails, the writer re-reads the map before the next pass, so its memory never
 * claims entries the kernel does not have.
 */
public final class MapWriter<K, V> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MapWriter.class);
  private static final int BATCH = 8192;
  private final MapBackend backend;
  private final Codec<K> keys;
  private final Codec<V> values;
  private Map<K, V> written;
  private boolean stale;

  public MapWriter(MapBackend backend, Codec<K> keys, Codec<V> values) {
    this.backend = backend;
    this.keys = keys;
    this.values = values;
    this.written = readBack();
  }

  public String mapName() {
    return backend.name();
  }

  /** What the writer believes the map holds (what it wrote or adopted). */
  public Map<K, V> written() {
    refreshIfStale();
    return Map.copyOf(written);
  }

  /** Visits what the writer believes the map holds, without copying it. */
  public void forEachWritten(java.util.function.BiConsumer<K, V> visitor) {
    refreshIfStale();
    written.forEach(visitor);
  }

  /** What the writer believes the map holds for one key; null when absent. No copy is made. */
  public V writtenValue(K key) {
    refreshIfStale();
    return written.get(key);
  }

  /** Creates or updates every entry of {@code desired} that differs from what is written. */
  public WriteResult upsert(Map<K, V> desired) {
    return upsert(desired, key -> true);
  }

  /**
   * Creates or updates the entries of {@code desired} that {@code which} selects and that differ
   * from what is written, in batches of {@value #BATCH} (a first pass writes 100,000s).
   */
  public WriteResult upsert(Map<K, V> desired, Predicate<K> which) {
    refreshIfStale();
    List<Map.Entry<K, V>> batch = new ArrayList<>();
    int created = 0;
    int updated = 0;
    int noop = 0;
    for (Map.Entry<K, V> e : desired.entrySet()) {
      if (!which.test(e.getKey())) {
        continue;
      }
      V current = written.get(e.getKey());
      if (e.getValue().equals(current)) {
        noop++;
        continue;
      }
      if (current == null) {
        created++;
      } else {
        updated++;
      }
      batch.add(e);
      if (batch.size() == BATCH) {
        write(batch);
      }
    }
    write(batch);
    return new WriteResult(noop, created, updated, 0);
  }

  private void write(List<Map.Entry<K, V>> batch) {
    if (batch.isEmpty()) {
      return;
    }
    List<byte[]> k = new ArrayList<>(batch.size());
    List<byte[]> v = new ArrayList<>(batch.size());
    for (Map.Entry<K, V> e : batch) {
      k.add(keys.encode(e.getKey()));
      v.add(values.encode(e.getValue()));
    }
    try {
      backend.upsert(k, v);
    } catch (RuntimeException ex) {
      stale = true;
      throw ex;
    }
    for (Map.Entry<K, V> e : batch) {
      written.put(e.getKey(), e.getValue());
    }
    batch.clear();
  }

  /**
   * Deletes written entries that {@code which} selects and {@code desiredKeys} does not contain.
   */
  public WriteResult deleteStale(Set<K> desiredKeys, Predicate<K> which) {
    refreshIfStale();
    return delete(written.keySet().stream()
        .filter(which)
        .filter(key -> !desiredKeys.contains(key))
        .toList());
  }

  /** Deletes those of {@code doomed} that are written; keys already absent cost nothing. */
  public WriteResult delete(Collection<K> doomed) {
    refreshIfStale();
    List<K> present = doomed.stream().filter(written::containsKey).toList();
    if (present.isEmpty()) {
      return WriteResult.NONE;
    }
    try {
      backend.delete(present.stream().map(keys::encode).toList());
    } catch (RuntimeException ex) {
      stale = true;
      throw ex;
    }
    present.forEach(written::remove);
    return new WriteResult(0, 0, 0, present.size());
  }

  public WriteResult deleteStale(Set<K> desiredKeys) {
    return deleteStale(desiredKeys, key -> true);
  }

  /** Upsert then delete: for maps whose entries do not depend on each other. */
  public WriteResult sync(Map<K, V> desired) {
    return upsert(desired).plus(deleteStale(desired.keySet()));
  }

  private void refreshIfStale() {
    if (stale) {
      written = readBack();
      stale = false;
    }
  }

  /**
   * Reads the map. Entries this agent cannot decode (written by a newer or broken writer) can never
   * be desired: they are deleted at once rather than left for the datapath to trip over.
   */
  private Map<K, V> readBack() {
    Map<K, V> out = new HashMap<>();
    List<byte[]> undecodable = new ArrayList<>();
    for (BpfMap.Entry e : backend.entries()) {
      try {
        // Per-CPU maps are not written through MapWriter; a value is exactly one struct.
        out.put(keys.decode(e.key()), values.decode(Arrays.copyOf(e.value(), values.size())));
      } catch (IllegalArgumentException ex) {
        undecodable.add(e.key());
      }
    }
    if (!undecodable.isEmpty()) {
      LOG.warn("map {}: deleting {} entries that do not decode", backend.name(), undecodable.size());
      backend.delete(undecodable);
    }
    return out;
  }
}
