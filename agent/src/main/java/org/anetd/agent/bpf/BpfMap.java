package org.anetd.agent.bpf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jnr.ffi.Pointer;

/**
 * One BPF map, by file descriptor: typed by its key and value sizes, with single and batch
 * operations. Keys and values are raw bytes; agent/datapath codecs give them meaning. For per-CPU
 * maps a value is {@link #valueBufferSize()} bytes: one 8-byte aligned slot per possible CPU.
 */
public final class BpfMap implements AutoCloseable {
  /** Flags of bpf_map_update_elem. */
  public enum UpdateFlag {
    ANY(0), NOEXIST(1), EXIST(2);

    final long value;

    UpdateFlag(long value) {
      this.value = value;
    }
  }

  /** A key and its value as stored in the map. */
  public record Entry(byte[] key, byte[] value) {}

  private static final int ENOENT = 2;
  private static final int EINVAL = 22;
  private static final int EOPNOTSUPP = 95;
  private static final int ENOTSUPP = 524;

  private final String name;
  private final int fd;
  private final MapType type;
  private final int keySize;
  private final int valueSize;
  private final int maxEntries;
  private final boolean ownsFd;
  private final LibBpfNative bpf = Native.get().bpf;

  BpfMap(String name, int fd, MapType type, int keySize, int valueSize, int maxEntries,
      boolean ownsFd) {
    this.name = name;
    this.fd = fd;
    this.type = type;
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.maxEntries = maxEntries;
    this.ownsFd = ownsFd;
  }

  /** Opens a map pinned in bpffs; the returned map owns its fd and closes it. */
  public static BpfMap openPinned(Path path) {
    Native n = Native.get();
    int fd = BpfException.check(n.bpf.bpf_obj_get(path.toString()), "bpf_obj_get", "pinned map " + path);
    try {
      MapInfo info = MapInfo.of(fd, path.toString());
      return new BpfMap(info.name(), fd, info.type(), info.keySize(), info.valueSize(),
          info.maxEntries(), true);
    } catch (RuntimeException e) {
      n.libc.close(fd);
      throw e;
    }
  }

  public String name() {
    return name;
  }

  public int fd() {
    return fd;
  }

  public MapType type() {
    return type;
  }

  public int keySize() {
    return keySize;
  }

  public int valueSize() {
    return valueSize;
  }

  public int maxEntries() {
    return maxEntries;
  }

  /** Bytes a lookup returns: valueSize, or one 8-byte aligned slot per CPU for per-CPU maps. */
  public int valueBufferSize() {
    if (!type.perCpu()) {
      return valueSize;
    }
    return ((valueSize + 7) & ~7) * Bpf.possibleCpus();
  }

  public Optional<byte[]> lookup(byte[] key) {
    checkKey(key);
    byte[] value = new byte[valueBufferSize()];
    int rc = bpf.bpf_map_lookup_elem(fd, key, value);
    if (rc == -ENOENT) {
      return Optional.empty();
    }
    BpfException.check(rc, "bpf_map_lookup_elem", target());
    return Optional.of(value);
  }

  public void update(byte[] key, byte[] value, UpdateFlag flag) {
    checkKey(key);
    checkValue(value);
    BpfException.check(bpf.bpf_map_update_elem(fd, key, value, flag.value), "bpf_map_update_elem",
        target());
  }

  public void update(byte[] key, byte[] value) {
    update(key, value, UpdateFlag.ANY);
  }

  /** Deletes a key; returns false when it was not there. */
  public boolean delete(byte[] key) {
    checkKey(key);
    int rc = bpf.bpf_map_delete_elem(fd, key);
    if (rc == -ENOENT) {
      return false;
    }
    BpfException.check(rc, "bpf_map_delete_elem", target());
    return true;
  }

  /** The key after {@code key} in iteration order, or the first key when {@code key} is null. */
  public Optional<byte[]> nextKey(byte[] key) {
    if (key != null) {
      checkKey(key);
    }
    byte[] next = new byte[keySize];
    int rc = bpf.bpf_map_get_next_key(fd, key, next);
    if (rc == -ENOENT) {
      return Optional.empty();
    }
    BpfException.check(rc, "bpf_map_get_next_key", target());
    return Optional.of(next);
  }

  /** All keys, by get-next-key iteration (entries may change concurrently). */
  public List<byte[]> keys() {
    List<byte[]> keys = new ArrayList<>();
    byte[] key = null;
    for (Optional<byte[]> next = nextKey(null); next.isPresent(); next = nextKey(key)) {
      key = next.get();
      keys.add(key);
    }
    return keys;
  }

  /** All entries, by batch lookup where the map type supports it, else key by key. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    forEachChunk(Math.max(1, Math.min(maxEntries, 4096)), out::addAll);
    return out;
  }

  /** Dumps the map with BPF_MAP_LOOKUP_BATCH, {@code chunk} entries per syscall. */
  public List<Entry> lookupBatch(int chunk) {
    List<Entry> out = new ArrayList<>();
    forEachBatch(chunk, out::addAll);
    return out;
  }

  /**
   * Every entry, {@code chunk} at a time (one BPF_MAP_LOOKUP_BATCH each, or key by key where the
   * map type has no batch support): a full table is never held in memory at once. Entries written
   * or deleted meanwhile may or may not be seen.
   */
  public void forEachChunk(int chunk, java.util.function.Consumer<List<Entry>> action) {
    boolean[] delivered = {false};
    try {
      forEachBatch(chunk, batch -> {
        delivered[0] = true;
        action.accept(batch);
      });
      return;
    } catch (BpfException e) {
      // only a batch lookup refused before anything was delivered means "no batch support": a
      // failure of the action itself, or later, is not retried key by key (entries twice)
      if (delivered[0] || !unsupported(e)) {
        throw e;
      }
    }
    List<Entry> out = new ArrayList<>();
    for (byte[] key : keys()) {
      lookup(key).ifPresent(v -> out.add(new Entry(key, v)));
      if (out.size() == chunk) {
        action.accept(List.copyOf(out));
        out.clear();
      }
    }
    if (!out.isEmpty()) {
      action.accept(List.copyOf(out));
    }
  }

  private void forEachBatch(int chunk, java.util.function.Consumer<List<Entry>> action) {
    int vbs = valueBufferSize();
    // The batch cursor of hash maps is a bucket index; key-sized (at least 8 bytes) is enough.
    Pointer inBatch = NativeStruct.zeroed(Math.max(keySize, 8));
    Pointer outBatch = NativeStruct.zeroed(Math.max(keySize, 8));
    Pointer keys = NativeStruct.zeroed((long) keySize * chunk);
    Pointer values = NativeStruct.zeroed((long) vbs * chunk);
    Pointer count = NativeStruct.zeroed(4);
    Pointer opts = NativeStruct.opts(24);
    boolean first = true;
    while (true) {
      count.putInt(0, chunk);
      int rc = bpf.bpf_map_lookup_batch(fd, first ? null : inBatch, outBatch, keys, values, count,
          opts);
      if (rc < 0 && rc != -ENOENT) {
        throw new BpfException("bpf_map_lookup_batch", target(), rc);
      }
      int got = count.getInt(0);
      List<Entry> batch = new ArrayList<>(got);
      for (int i = 0; i < got; i++) {
        byte[] k = new byte[keySize];
        byte[] v = new byte[vbs];
        keys.get((long) i * keySize, k, 0, keySize);
        values.get((long) i * vbs, v, 0, vbs);
        batch.add(new Entry(k, v));
      }
      if (!batch.isEmpty()) {
        action.accept(batch);
      }
      if (rc == -ENOENT) {
        return;
      }
      byte[] cursor = new byte[Math.max(keySize, 8)];
      outBatch.get(0, cursor, 0, cursor.length);
      inBatch.put(0, cursor, 0, cursor.length);
      first = false;
    }
  }

  /**
   * Writes many entries with BPF_MAP_UPDATE_BATCH (one syscall per call), or one by one where the
   * map type has no batch support (LPM tries). Returns the number of entries written.
   */
  public int updateBatch(List<byte[]> keyList, List<byte[]> valueList) {
    if (keyList.size() != valueList.size()) {
      throw new IllegalArgumentException("keys and values differ in length");
    }
    if (keyList.isEmpty()) {
      return 0;
    }
    int n = keyList.size();
    int vbs = valueBufferSize();
    Pointer keys = NativeStruct.zeroed((long) keySize * n);
    Pointer values = NativeStruct.zeroed((long) vbs * n);
    for (int i = 0; i < n; i++) {
      byte[] k = keyList.get(i);
      byte[] v = valueList.get(i);
      checkKey(k);
      checkValue(v);
      keys.put((long) i * keySize, k, 0, keySize);
      values.put((long) i * vbs, v, 0, vbs);
    }
    Pointer count = NativeStruct.zeroed(4);
    count.putInt(0, n);
    int rc = bpf.bpf_map_update_batch(fd, keys, values, count, NativeStruct.opts(24));
    if (rc == -EOPNOTSUPP || rc == -ENOTSUPP || (rc == -EINVAL && type == MapType.LPM_TRIE)) {
      for (int i = 0; i < n; i++) {
        update(keyList.get(i), valueList.get(i));
      }
      return n;
    }
    BpfException.check(rc, "bpf_map_update_batch (" + count.getInt(0) + " of " + n + " written)",
        target());
    return count.getInt(0);
  }

  /**
   * Deletes many keys with BPF_MAP_DELETE_BATCH, or one by one where unsupported or where some key
   * is absent. Returns the number of keys that were present and deleted.
   */
  public int deleteBatch(List<byte[]> keyList) {
    if (keyList.isEmpty()) {
      return 0;
    }
    int n = keyList.size();
    Pointer keys = NativeStruct.zeroed((long) keySize * n);
    for (int i = 0; i < n; i++) {
      checkKey(keyList.get(i));
      keys.put((long) i * keySize, keyList.get(i), 0, keySize);
    }
    Pointer count = NativeStruct.zeroed(4);
    count.putInt(0, n);
    int rc = bpf.bpf_map_delete_batch(fd, keys, count, NativeStruct.opts(24));
    if (rc == 0) {
      return n;
    }
    if (rc == -ENOENT || rc == -EOPNOTSUPP || rc == -ENOTSUPP || rc == -EINVAL) {
      // The kernel stops at the first absent key: finish the rest one by one.
      int done = rc == -ENOENT ? count.getInt(0) : 0;
      int deleted = done;
      for (int i = done; i < n; i++) {
        if (delete(keyList.get(i))) {
          deleted++;
        }
      }
      return deleted;
    }
    throw new BpfException("bpf_map_delete_batch", target(), rc);
  }

  /** Pins this map at {@code path} in bpffs. */
  public void pin(Path path) {
    BpfException.check(bpf.bpf_obj_pin(fd, path.toString()), "bpf_obj_pin " + path, target());
  }

  @Override
  public void close() {
    if (ownsFd) {
      Native.get().libc.close(fd);
    }
  }

  @Override
  public String toString() {
    return "BpfMap[" + name + " " + type + " key=" + keySize + " value=" + valueSize + " max="
        + maxEntries + "]";
  }

  private String target() {
    return "map " + name;
  }

  private void checkKey(byte[] key) {
    if (key.length != keySize) {
      throw new IllegalArgumentException(
          "map " + name + ": key of " + key.length + " bytes, expected " + keySize);
    }
  }

  private void checkValue(byte[] value) {
    if (value.length != valueBufferSize()) {
      throw new IllegalArgumentException("map " + name + ": value of " + value.length
          + " bytes, expected " + valueBufferSize());
    }
  }

  private static boolean unsupported(BpfException e) {
    return e.errno() == EOPNOTSUPP || e.errno() == ENOTSUPP || e.errno() == EINVAL;
  }
}
