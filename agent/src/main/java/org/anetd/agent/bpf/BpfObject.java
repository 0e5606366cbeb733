package org.anetd.agent.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A compiled eBPF object through its lifecycle, as a libbpf skeleton would walk it:
 * {@link #open} -> {@link #setMaxEntries} / {@link #setRodata} -> {@link #pinMapsUnder} ->
 * {@link #load} -> {@link #map} / {@link #program}. Each step fails with its own
 * {@link BpfException} naming the object and the map or program concerned.
 */
public final class BpfObject implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BpfObject.class);
  private static final int BTF_KIND_DATASEC = 15;

  private final String name;
  private final LibBpfNative bpf;
  private final Map<String, Path> pinPaths = new LinkedHashMap<>();
  private Set<String> recreatedOnLayoutChange = Set.of();
  private Pointer obj;
  private boolean loaded;

  private BpfObject(String name, Pointer obj) {
    this.name = name;
    this.obj = obj;
    this.bpf = Native.get().bpf;
  }

  /** Opens an object from ELF bytes (libbpf copies them). */
  public static BpfObject open(String name, byte[] elf) {
    Native n = Native.get();
    Pointer obj = n.bpf.bpf_object__open_mem(elf, elf.length, null);
    if (obj == null) {
      throw new BpfException("bpf_object__open_mem", "object " + name, -n.lastErrno());
    }
    return new BpfObject(name, obj);
  }

  public static BpfObject openFile(Path path) {
    try {
      return open(path.getFileName().toString(), Files.readAllBytes(path));
    } catch (IOException e) {
      throw new BpfException("read eBPF object " + path + ": " + e.getMessage(), e);
    }
  }

  /** Opens an object shipped in the agent jar under /bpf (e.g. "bpf_lxc.o"). */
  public static BpfObject openResource(String relativePath) {
    String resource = "/bpf/" + relativePath;
    try (InputStream in = BpfObject.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new BpfException("eBPF object " + resource + " is not in the agent jar;"
            + " rebuild with `make build`");
      }
      return open(relativePath, in.readAllBytes());
    } catch (IOException e) {
      throw new BpfException("read eBPF object " + resource + ": " + e.getMessage(), e);
    }
  }

  public String name() {
    return name;
  }

  /** Names of the object's maps, internal ones (.rodata, .bss) included. */
  public List<String> mapNames() {
    List<String> names = new ArrayList<>();
    for (Pointer m = bpf.bpf_object__next_map(handle(), null); m != null;
        m = bpf.bpf_object__next_map(handle(), m)) {
      names.add(bpf.bpf_map__name(m));
    }
    return names;
  }

  /** Sets a map's size before load (from cilium-config, e.g. bpf-lb-map-max). */
  public BpfObject setMaxEntries(String mapName, int maxEntries) {
    requireNotLoaded("set max_entries of " + mapName);
    BpfException.check(bpf.bpf_map__set_max_entries(rawMap(mapName), maxEntries),
        "bpf_map__set_max_entries(" + maxEntries + ")", target(mapName));
    return this;
  }

  /**
   * Sets a {@code const volatile} global before load. The value's bytes are written in host
   * byte order at the variable's offset in .rodata, found through the object's BTF.
   */
  public BpfObject setRodata(String variable, byte[] value) {
    requireNotLoaded("set rodata " + variable);
    Pointer rodataMap = null;
    for (Pointer m = bpf.bpf_object__next_map(handle(), null); m != null;
        m = bpf.bpf_object__next_map(handle(), m)) {
      if (bpf.bpf_map__name(m).endsWith(".rodata")) {
        rodataMap = m;
      }
    }
    if (rodataMap == null) {
      throw new BpfException("object " + name + " has no .rodata: no tunable " + variable);
    }
    Pointer btf = bpf.bpf_object__btf(handle());
    int secId = btf == null ? -1 : bpf.btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
    if (secId < 0) {
      throw new BpfException("object " + name + " has no BTF for .rodata");
    }
    Pointer sec = bpf.btf__type_by_id(btf, secId);
    int vlen = sec.getInt(4) & 0xffff;
    for (int i = 0; i < vlen; i++) {
      long base = 12L + 12L * i; // struct btf_var_secinfo {type, offset, size}
      int varType = sec.getInt(base);
      int offset = sec.getInt(base + 4);
      int size = sec.getInt(base + 8);
      Pointer var = bpf.btf__type_by_id(btf, varType);
      if (variable.equals(bpf.btf__name_by_offset(btf, var.getInt(0)))) {
        if (size != value.length) {
          throw new BpfException("tunable " + variable + " of object " + name + " has " + size
              + " bytes, got " + value.length);
        }
        Pointer psize = NativeStruct.zeroed(8);
        Pointer data = bpf.bpf_map__initial_value(rodataMap, psize);
        data.put(offset, value, 0, value.length);
        return this;
      }
    }
    throw new BpfException("object " + name + " has no tunable " + variable);
  }

  public BpfObject setRodataU32(String variable, int value) {
    return setRodata(variable, java.nio.ByteBuffer.allocate(4)
        .order(java.nio.ByteOrder.nativeOrder()).putInt(value).array());
  }

  /**
   * Pins every non-internal map under {@code dir} by its name. At load, libbpf reuses a map
   * already pinned there (so restarts and sibling objects share state) and pins new ones.
   * A pinned map whose shape differs from the object's is reported before load.
   */
  public BpfObject pinMapsUnder(Path dir) {
    requireNotLoaded("pin maps");
    for (Pointer m = bpf.bpf_object__next_map(handle(), null); m != null;
        m = bpf.bpf_object__next_map(handle(), m)) {
      String mapName = bpf.bpf_map__name(m);
      if (mapName.contains(".")) {
        continue; // .rodata/.bss/.data belong to this object alone
      }
      Path path = dir.resolve(mapName);
      BpfException.check(bpf.bpf_map__set_pin_path(m, path.toString()),
          "bpf_map__set_pin_path(" + path + ")", target(mapName));
      pinPaths.put(mapName, path);
    }
    return this;
  }

  /**
   * Maps whose content can be lost (counters): a pinned one whose shape differs from the object's
   * (an upgrade changed it) is unpinned and created afresh instead of failing the load. Programs
   * still attached keep the old map until they are replaced.
   */
  public BpfObject recreatingOnLayoutChange(String... mapNames) {
    requireNotLoaded("choose maps to recreate");
    this.recreatedOnLayoutChange = Set.of(mapNames);
    return this;
  }

  /**
   * Loads programs and creates (or adopts pinned) maps. A pinned map that differs from the
   * object's only in its size (a changed bpf-lb-map-max, bpf-ct-global-*-max) is created anew at
   * the configured size and its entries are carried over ({@link #carryOver}): tracked
   * connections and service entries survive the change.
   */
  public BpfObject load() {
    requireNotLoaded("load");
    Map<String, Path> resized = checkPinnedMapsCompatible();
    int rc = bpf.bpf_object__load(handle());
    if (rc < 0) {
      resized.forEach((mapName, aside) -> restorePin(aside, pinPaths.get(mapName)));
      throw new BpfException("bpf_object__load (verifier output above, from libbpf)",
          "object " + name, rc);
    }
    loaded = true;
    resized.forEach(this::carryOver);
    return this;
  }

  /** Map types whose entries can be copied into a map of another size. */
  private static final Set<MapType> RESIZABLE = Set.of(MapType.HASH, MapType.LRU_HASH,
      MapType.LPM_TRIE);

  /** The temporary pin of a map being resized (the old map, until its entries are copied). */
  public static Path asidePin(Path pin) {
    return pin.resolveSibling(pin.getFileName() + "_resizing"); // bpffs refuses dots in names
  }

  /**
   * Copies the entries of the old map (pinned at {@code aside}) into the new one, as many as fit
   * (a smaller LRU map keeps the ones copied last, a smaller hash map the first ones; the agent
   * rewrites service and policy maps in full at start anyway), then removes the old pin. Entries
   * the old programs write between this copy and the new programs' attach are not carried over.
   */
  private void carryOver(String mapName, Path aside) {
    BpfMap target = map(mapName);
    long[] copied = {0, 0};
    try (BpfMap old = BpfMap.openPinned(aside)) {
      old.forEachChunk(4096, chunk -> {
        for (BpfMap.Entry e : chunk) {
          try {
            target.update(e.key(), e.value());
            copied[0]++;
          } catch (BpfException ex) {
            copied[1]++; // full: what is left does not fit
          }
        }
      });
    } catch (RuntimeException e) {
      LOG.error("map {}: carrying the entries of the old map over failed after {} entries: {}",
          mapName, copied[0], e.toString());
    }
    if (copied[1] > 0) {
      LOG.warn("map {} resized to {} entries: {} entries carried over, {} did not fit", mapName,
          target.maxEntries(), copied[0], copied[1]);
    } else {
      LOG.info("map {} resized to {} entries, its {} entries carried over", mapName,
          target.maxEntries(), copied[0]);
    }
    try {
      Files.deleteIfExists(aside);
    } catch (IOException e) {
      // fail the load, before any program uses the new map: the next start then finds the old
      // map aside while the programs still attached use it, and puts it back
      throw new BpfException("remove the old map's pin " + aside + " after resizing "
          + mapName + ": " + e.getMessage(), e);
    }
  }

  private static void restorePin(Path aside, Path pin) {
    try {
      Files.deleteIfExists(pin); // what the failed load may have pinned there
      Files.move(aside, pin);
    } catch (IOException e) {
      LOG.error("cannot put the old map back from {} to {}: {}", aside, pin, e.toString());
    }
  }

  /** A map of the loaded object; the object owns its fd. */
  public BpfMap map(String mapName) {
    requireLoaded("map " + mapName);
    Pointer m = rawMap(mapName);
    int fd = BpfException.check(bpf.bpf_map__fd(m), "bpf_map__fd", target(mapName));
    return new BpfMap(mapName, fd, MapType.of(bpf.bpf_map__type(m)), bpf.bpf_map__key_size(m),
        bpf.bpf_map__value_size(m), bpf.bpf_map__max_entries(m), false);
  }

  public BpfProgram program(String programName) {
    requireLoaded("program " + programName);
    Pointer p = bpf.bpf_object__find_program_by_name(handle(), programName);
    if (p == null) {
      throw new BpfException("object " + name + " has no program " + programName
          + " (has: " + programNames() + ")");
    }
    int fd = BpfException.check(bpf.bpf_program__fd(p), "bpf_program__fd",
        "program " + programName + " of object " + name);
    return new BpfProgram(programName, fd);
  }

  public List<String> programNames() {
    List<String> names = new ArrayList<>();
    for (Pointer p = bpf.bpf_object__next_program(handle(), null); p != null;
        p = bpf.bpf_object__next_program(handle(), p)) {
      names.add(bpf.bpf_program__name(p));
    }
    return names;
  }

  /** Where each map is pinned (empty until {@link #pinMapsUnder}). */
  public Map<String, Path> pinPaths() {
    return Map.copyOf(pinPaths);
  }

  @Override
  public void close() {
    if (obj != null) {
      bpf.bpf_object__close(obj);
      obj = null;
    }
  }

  /**
   * Checks every pinned map against the object's definition; moves aside (to {@link #asidePin})
   * those that differ only in size, returning them by name, so that load creates them anew.
   */
  private Map<String, Path> checkPinnedMapsCompatible() {
    Map<String, Path> resized = new java.util.LinkedHashMap<>();
    try {
      checkPinnedMapsCompatible(resized);
    } catch (RuntimeException e) {
      // another map stops the load: the maps moved aside go back to their pins
      resized.forEach((mapName, aside) -> restorePin(aside, pinPaths.get(mapName)));
      throw e;
    }
    return resized;
  }

  private void checkPinnedMapsCompatible(Map<String, Path> resized) {
    for (Map.Entry<String, Path> e : pinPaths.entrySet()) {
      Path aside = asidePin(e.getValue());
      if (Files.exists(aside)) {
        // an agent stopped during a resize, before its programs were attached: the programs
        // still attached use the old map, so it goes back to its pin and the resize starts over
        LOG.warn("map {}: putting back the old map an interrupted resize left at {}", e.getKey(),
            aside);
        restorePin(aside, e.getValue());
      }
      if (!Files.exists(e.getValue())) {
        continue;
      }
      Pointer m = rawMap(e.getKey());
      try (BpfMap pinned = BpfMap.openPinned(e.getValue())) {
        int key = bpf.bpf_map__key_size(m);
        int value = bpf.bpf_map__value_size(m);
        int max = bpf.bpf_map__max_entries(m);
        MapType type = MapType.of(bpf.bpf_map__type(m));
        boolean sameLayout = pinned.keySize() == key && pinned.valueSize() == value
            && pinned.type() == type;
        boolean differs = !sameLayout || pinned.maxEntries() != max;
        boolean onlySize = sameLayout && pinned.maxEntries() != max;
        if (onlySize && RESIZABLE.contains(type) && !recreatedOnLayoutChange.contains(e.getKey())) {
          LOG.info("pinned map {} has {} entries, the configuration {}: resizing it", e.getValue(),
              pinned.maxEntries(), max);
          try {
            Files.move(e.getValue(), aside);
          } catch (IOException ex) {
            throw new BpfException("move pin " + e.getValue() + " aside to resize it: "
                + ex.getMessage(), ex);
          }
          resized.put(e.getKey(), aside);
          continue;
        }
        if (differs && recreatedOnLayoutChange.contains(e.getKey())) {
          LOG.warn("pinned map {} has {} key={} value={} max={}, object {} needs {} key={} value={}"
              + " max={}: recreating it (its counters start from zero)", e.getValue(),
              pinned.type(), pinned.keySize(), pinned.valueSize(), pinned.maxEntries(), name,
              type, key, value, max);
          unpin(e.getValue());
          continue;
        }
        if (differs) {
          throw new BpfException(String.format("pinned map %s has %s key=%d value=%d max=%d but"
              + " object %s needs %s key=%d value=%d max=%d: the map layout or size changed;"
              + " remove the pin to recreate it (connections tracked in it are lost)",
              e.getValue(), pinned.type(), pinned.keySize(), pinned.valueSize(),
              pinned.maxEntries(), name, type, key, value, max));
        }
      }
    }
  }

  private static void unpin(Path pin) {
    try {
      Files.delete(pin);
    } catch (IOException ex) {
      throw new BpfException("remove pin " + pin + " of a map to recreate: " + ex.getMessage(), ex);
    }
  }

  private Pointer rawMap(String mapName) {
    Pointer m = bpf.bpf_object__find_map_by_name(handle(), mapName);
    if (m == null) {
      throw new BpfException("object " + name + " has no map " + mapName
          + " (has: " + mapNames() + ")");
    }
    return m;
  }

  private Pointer handle() {
    if (obj == null) {
      throw new IllegalStateException("object " + name + " is closed");
    }
    return obj;
  }

  private String target(String mapName) {
    return "map " + mapName + " of object " + name;
  }

  private void requireNotLoaded(String what) {
    if (loaded) {
      throw new IllegalStateException("cannot " + what + ": object " + name + " is loaded");
    }
  }

  private void requireLoaded(String what) {
    if (!loaded) {
      throw new IllegalStateException(what + " of object " + name + " needs load() first");
    }
  }
}
