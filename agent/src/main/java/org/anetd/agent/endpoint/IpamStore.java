package org.anetd.agent.endpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.anetd.agent.datapath.Ipv4;

/**
 * The node's pod address allocations on disk ({@code <dir>/allocations.json}, e.g.
 * /var/lib/anetd/ipam). Every operation takes the directory lock, reads the file, lets
 * {@link Ipam} or {@link IpamGarbageCollector} decide, and writes the result atomically before
 * returning: two threads or two processes never hand out one address twice, and a process killed
 * at any point leaves the old or the new state, never a mix.
 */
public final class IpamStore {
  static final String FILE = "allocations.json";
  private static final int FORMAT_VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path dir;
  private final Path file;
  private final PodCidr cidr;
  private final Clock clock;

  /** The file format; addresses and times as text so the file reads well in an incident. */
  /** lastAllocated: the address last handed out (allocation goes round the range); may be null. */
  record StoreFile(int formatVersion, String podCidr, List<StoredAllocation> allocations,
      String lastAllocated) {}

  record StoredAllocation(String address, String containerId, String ifname,
      String podNamespace, String podName, String allocatedAt) {}

  public IpamStore(Path dir, PodCidr cidr, Clock clock) {
    this.dir = dir;
    this.file = dir.resolve(FILE);
    this.cidr = cidr;
    this.clock = clock;
    StateFiles.ensureDirectory(dir);
  }

  public PodCidr podCidr() {
    return cidr;
  }

  public Path file() {
    return file;
  }

  /**
   * The address of {@code key}: the one it already has (ADD is idempotent) or the next free after
   * the last one handed out ({@link Ipam#allocate}).
   *
   * @throws PoolExhaustedException when no address is free
   * @throws StateCorruptedException when the store cannot be read
   */
  public Allocation allocate(AttachmentKey key, PodRef pod) {
    return transact((current, last) -> {
      Ipam.Outcome outcome = Ipam.allocate(cidr, current, key, pod, clock.instant(), last);
      if (outcome instanceof Ipam.Reused r) {
        return new Change<>(current, r.allocation());
      }
      if (outcome instanceof Ipam.Allocated a) {
        List<Allocation> next = new ArrayList<>(current);
        next.add(a.allocation());
        return new Change<>(next, a.allocation(), Optional.of(a.allocation().address()));
      }
      throw new PoolExhaustedException(((Ipam.Exhausted) outcome).message());
    });
  }

  /** Frees the address of {@code key}; releasing what is not allocated is fine (DEL). */
  public Optional<Allocation> release(AttachmentKey key) {
    return transact(current -> {
      Optional<Allocation> existing = Ipam.find(current, key);
      if (existing.isEmpty()) {
        return new Change<>(current, existing);
      }
      List<Allocation> next = new ArrayList<>(current);
      next.remove(existing.get());
      return new Change<>(next, existing);
    });
  }

  /**
   * Records {@code wanted} allocations the store lacks (see {@link Ipam#adoptable}); returns
   * those it added.
   */
  public List<Allocation> adopt(Collection<Allocation> wanted) {
    return transact(current -> {
      List<Allocation> added = Ipam.adoptable(current, wanted);
      List<Allocation> next = new ArrayList<>(current);
      next.addAll(added);
      next.sort(Comparator.comparing(Allocation::address));
      return new Change<>(List.copyOf(next), added);
    });
  }

  /**
   * Frees the allocations of pods that no longer exist (see {@link IpamGarbageCollector}), but
   * never those of {@code inUse} (an endpoint that could not be removed still carries its
   * address).
   */
  public List<Allocation> collectGarbage(Collection<LivePod> live, Duration grace,
      Set<AttachmentKey> inUse) {
    return transact(current -> {
      List<Allocation> leaked = IpamGarbageCollector.toFree(current, live, clock.instant(), grace)
          .stream().filter(a -> !inUse.contains(a.key())).toList();
      List<Allocation> next = new ArrayList<>(current);
      next.removeAll(leaked);
      return new Change<>(next, leaked);
    });
  }

  /** CNI GC: frees every allocation whose attachment is not in {@code valid}. */
  public List<Allocation> releaseAllExcept(Set<AttachmentKey> valid) {
    return transact(current -> {
      List<Allocation> stale = current.stream().filter(a -> !valid.contains(a.key())).toList();
      List<Allocation> next = new ArrayList<>(current);
      next.removeAll(stale);
      return new Change<>(next, stale);
    });
  }

  public Optional<Allocation> find(AttachmentKey key) {
    return Ipam.find(allocations(), key);
  }

  /** The allocations, lowest address first. */
  public List<Allocation> allocations() {
    return transact(current -> new Change<>(current, current));
  }

  /** next: the allocations after the change; last: a new last handed-out address, or none. */
  private record Change<T>(List<Allocation> next, T answer, Optional<Ipv4> last) {
    Change(List<Allocation> next, T answer) {
      this(next, answer, Optional.empty());
    }
  }

  /** What the file holds. */
  private record Stored(List<Allocation> allocations, Optional<Ipv4> last) {}

  private <T> T transact(Function<List<Allocation>, Change<T>> decide) {
    return transact((current, last) -> decide.apply(current));
  }

  private <T> T transact(
      java.util.function.BiFunction<List<Allocation>, Optional<Ipv4>, Change<T>> decide) {
    try (AutoCloseable lock = StateFiles.lock(dir)) {
      Stored stored = load();
      Change<T> change = decide.apply(stored.allocations(), stored.last());
      Optional<Ipv4> last = change.last().or(stored::last);
      if (!change.next().equals(stored.allocations()) || !last.equals(stored.last())) {
        save(change.next(), last);
      }
      return change.answer();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("IPAM store " + file + ": " + e.getMessage(), e);
    }
  }

  private Stored load() {
    java.util.Optional<byte[]> read = StateFiles.readIfPresent(file);
    if (read.isEmpty()) {
      return new Stored(List.of(), Optional.empty());
    }
    byte[] bytes = read.get();
    StoreFile stored;
    try {
      stored = JSON.readValue(bytes, StoreFile.class);
    } catch (JacksonException e) {
      throw new StateCorruptedException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (stored == null || stored.allocations() == null) {
      throw new StateCorruptedException(file, "no \"allocations\" list", null);
    }
    if (stored.formatVersion() != FORMAT_VERSION) {
      throw new StateCorruptedException(file, "format version " + stored.formatVersion()
          + ", this agent reads " + FORMAT_VERSION, null);
    }
    List<Allocation> result = new ArrayList<>();
    Set<Ipv4> addresses = new HashSet<>();
    Set<AttachmentKey> keys = new HashSet<>();
    for (StoredAllocation s : stored.allocations()) {
      Allocation a;
      try {
        a = new Allocation(Ipv4.parse(String.valueOf(s.address())),
            new AttachmentKey(s.containerId(), s.ifname()),
            new PodRef(s.podNamespace(), s.podName()), Instant.parse(String.valueOf(s.allocatedAt())));
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw new StateCorruptedException(file, "entry " + s + ": " + e.getMessage(), e);
      }
      if (!addresses.add(a.address())) {
        throw new StateCorruptedException(file, "address " + a.address() + " allocated twice", null);
      }
      if (!keys.add(a.key())) {
        throw new StateCorruptedException(file, "attachment " + a.key() + " has two addresses", null);
      }
      result.add(a);
    }
    result.sort(Comparator.comparing(Allocation::address));
    Optional<Ipv4> last;
    try {
      last = Optional.ofNullable(stored.lastAllocated()).map(Ipv4::parse);
    } catch (IllegalArgumentException e) {
      throw new StateCorruptedException(file, "lastAllocated " + stored.lastAllocated() + ": "
          + e.getMessage(), e);
    }
    return new Stored(List.copyOf(result), last);
  }

  private void save(List<Allocation> allocations, Optional<Ipv4> last) {
    List<StoredAllocation> stored = allocations.stream()
        .sorted(Comparator.comparing(Allocation::address))
        .map(a -> new StoredAllocation(a.address().toString(), a.key().containerId(),
            a.key().ifname(), a.pod().namespace(), a.pod().name(), a.allocatedAt().toString()))
        .toList();
    try {
      StateFiles.writeAtomically(file, JSON.writeValueAsBytes(
          new StoreFile(FORMAT_VERSION, cidr.toString(), stored,
              last.map(Ipv4::toString).orElse(null))));
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot encode IPAM allocations: " + e.getMessage(), e);
    }
  }
}
