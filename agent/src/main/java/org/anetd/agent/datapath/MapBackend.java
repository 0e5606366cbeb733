package org.anetd.agent.datapath;

import java.util.List;
import java.util.Optional;
import org.anetd.agent.bpf.BpfMap;

/**
 * Raw storage of one map, as the writer needs it: the kernel map ({@link #of(BpfMap)}) in the
 * agent, an in-memory fake in tests. Keys and values are encoded bytes.
 */
public interface MapBackend {
  String name();

  int maxEntries();

  /** Every entry currently stored. */
  List<BpfMap.Entry> entries();

  /**
   * Every entry, a chunk at a time, for scans of large tables (conntrack) that must not hold the
   * whole table in memory.
   */
  default void forEachChunk(java.util.function.Consumer<List<BpfMap.Entry>> action) {
    action.accept(entries());
  }

  /** The value stored under {@code key} now, if any. */
  Optional<byte[]> lookup(byte[] key);

  /** Writes entries (batched where the map type allows); throws naming the map on failure. */
  void upsert(List<byte[]> keys, List<byte[]> values);

  /** Deletes keys; absent keys are fine. Returns how many were present. */
  int delete(List<byte[]> keys);

  static MapBackend of(BpfMap map) {
    return new MapBackend() {
      @Override
      public String name() {
        return map.name();
      }

      @Override
      public int maxEntries() {
        return map.maxEntries();
      }

      @Override
      public List<BpfMap.Entry> entries() {
        return map.entries();
      }

      @Override
      public void forEachChunk(java.util.function.Consumer<List<BpfMap.Entry>> action) {
        map.forEachChunk(4096, action);
      }

      @Override
      public Optional<byte[]> lookup(byte[] key) {
        return map.lookup(key);
      }

      @Override
      public void upsert(List<byte[]> keys, List<byte[]> values) {
        map.updateBatch(keys, values);
      }

      @Override
      public int delete(List<byte[]> keys) {
        return map.deleteBatch(keys);
      }
    };
  }
}
