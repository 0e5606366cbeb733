package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;

/**
 * A map in memory for writer tests: same contract as the kernel map, with a capacity (writes past
 * it fail like E2BIG), one-shot failure injection, and a hook run after every single element
 * operation so tests can check invariants at each intermediate state.
 */
public final class InMemoryMapBackend implements MapBackend {
  private final String name;
  private final int maxEntries;
  private final Map<String, byte[]> entries = new LinkedHashMap<>();
  private final HexFormat hex = HexFormat.of();
  private Consumer<String> afterEachOperation = op -> {};
  private Runnable afterRead = () -> {};
  private int failAfter = -1;

  public InMemoryMapBackend(String name, int maxEntries) {
    this.name = name;
    this.maxEntries = maxEntries;
  }

  /** Runs {@code hook} with a description ("update name key") after every element operation. */
  public InMemoryMapBackend afterEachOperation(Consumer<String> hook) {
    this.afterEachOperation = hook;
    return this;
  }

  /** Runs {@code hook} each time {@link #entries()} has taken its copy (a write racing a read). */
  public InMemoryMapBackend afterRead(Runnable hook) {
    this.afterRead = hook;
    return this;
  }

  /** The next write fails after {@code n} more element operations succeeded. */
  public void failAfter(int n) {
    this.failAfter = n;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int maxEntries() {
    return maxEntries;
  }

  @Override
  public List<BpfMap.Entry> entries() {
    List<BpfMap.Entry> out = new ArrayList<>();
    entries.forEach((k, v) -> out.add(new BpfMap.Entry(hex.parseHex(k), v.clone())));
    afterRead.run();
    return out;
  }

  @Override
  public Optional<byte[]> lookup(byte[] key) {
    return Optional.ofNullable(entries.get(hex.formatHex(key))).map(byte[]::clone);
  }

  @Override
  public void upsert(List<byte[]> keys, List<byte[]> values) {
    for (int i = 0; i < keys.size(); i++) {
      String k = hex.formatHex(keys.get(i));
      tick();
      if (!entries.containsKey(k) && entries.size() >= maxEntries) {
        throw new BpfException("update on map " + name + ": E2BIG (map is full)");
      }
      entries.put(k, values.get(i).clone());
      afterEachOperation.accept("update " + name + " " + k);
    }
  }

  @Override
  public int delete(List<byte[]> keys) {
    int n = 0;
    for (byte[] key : keys) {
      tick();
      if (entries.remove(hex.formatHex(key)) != null) {
        n++;
      }
      afterEachOperation.accept("delete " + name + " " + hex.formatHex(key));
    }
    return n;
  }

  /** Stores raw bytes directly (for adoption tests and corrupted entries). */
  public void putRaw(byte[] key, byte[] value) {
    entries.put(hex.formatHex(key), value.clone());
  }

  public int size() {
    return entries.size();
  }

  private void tick() {
    if (failAfter == 0) {
      failAfter = -1;
      throw new BpfException("injected failure on map " + name);
    }
    if (failAfter > 0) {
      failAfter--;
    }
  }
}
