package org.anetd.agent.endpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import org.anetd.agent.datapath.Ipv4;

/**
 * The endpoints of this node on disk ({@code <dir>/endpoints.json}), so a restarted agent knows
 * which veths, addresses and datapath entries are its own. Writes are atomic
 * ({@link StateFiles}); ids are the lowest free in 1..65535.
 */
public final class EndpointRegistry {
  static final String FILE = "endpoints.json";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path dir;
  private final Path file;

  record StoredEndpoint(int id, String containerId, String ifname, String podNamespace,
      String podName, String address, String hostIfname, int hostIfindex, String hostMac,
      String podIfMac, String podNetns) {}

  public EndpointRegistry(Path dir) {
    this.dir = dir;
    this.file = dir.resolve(FILE);
    StateFiles.ensureDirectory(dir);
  }

  /**
   * Registers the endpoint {@code build} makes from the lowest free id, replacing an earlier
   * endpoint of the same attachment. Id choice and write happen under the directory lock, so two
   * processes never take one id.
   */
  public synchronized Endpoint register(AttachmentKey key, IntFunction<Endpoint> build) {
    return withLock(() -> {
      List<Endpoint> next = new ArrayList<>(load());
      next.removeIf(e -> e.key().equals(key));
      Set<Integer> used = new HashSet<>();
      next.forEach(e -> used.add(e.id()));
      int id = 1;
      while (used.contains(id)) {
        id++;
      }
      if (id > Endpoint.MAX_ID) {
        throw new IllegalStateException("all " + Endpoint.MAX_ID + " endpoint ids are in use");
      }
      Endpoint endpoint = build.apply(id);
      if (!endpoint.key().equals(key) || endpoint.id() != id) {
        throw new IllegalArgumentException("endpoint " + endpoint + " is not " + key + " with id "
            + id);
      }
      next.add(endpoint);
      save(next);
      return endpoint;
    });
  }

  public synchronized Optional<Endpoint> remove(AttachmentKey key) {
    return withLock(() -> {
      List<Endpoint> current = load();
      Optional<Endpoint> found = current.stream().filter(e -> e.key().equals(key)).findFirst();
      if (found.isPresent()) {
        List<Endpoint> next = new ArrayList<>(current);
        next.remove(found.get());
        save(next);
      }
      return found;
    });
  }

  public synchronized Optional<Endpoint> find(AttachmentKey key) {
    return all().stream().filter(e -> e.key().equals(key)).findFirst();
  }

  /** Every endpoint, by id. */
  public synchronized List<Endpoint> all() {
    return withLock(this::load);
  }

  private <T> T withLock(java.util.function.Supplier<T> work) {
    try (AutoCloseable lock = StateFiles.lock(dir)) {
      return work.get();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("endpoint registry " + file + ": " + e.getMessage(), e);
    }
  }

  private List<Endpoint> load() {
    java.util.Optional<byte[]> read = StateFiles.readIfPresent(file);
    if (read.isEmpty()) {
      return List.of();
    }
    byte[] bytes = read.get();
    List<StoredEndpoint> stored;
    try {
      stored = JSON.readValue(bytes, new TypeReference<List<StoredEndpoint>>() {});
    } catch (JacksonException e) {
      throw new StateCorruptedException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (stored == null) {
      throw new StateCorruptedException(file, "empty", null);
    }
    List<Endpoint> result = new ArrayList<>();
    for (StoredEndpoint s : stored) {
      try {
        result.add(new Endpoint(s.id(), new AttachmentKey(s.containerId(), s.ifname()),
            new PodRef(s.podNamespace(), s.podName()), Ipv4.parse(String.valueOf(s.address())),
            s.hostIfname(), s.hostIfindex(), s.hostMac(), s.podIfMac(), s.podNetns()));
      } catch (IllegalArgumentException e) {
        throw new StateCorruptedException(file, "entry " + s + ": " + e.getMessage(), e);
      }
    }
    result.sort(Comparator.comparingInt(Endpoint::id));
    return List.copyOf(result);
  }

  private void save(List<Endpoint> endpoints) {
    List<StoredEndpoint> stored = endpoints.stream()
        .sorted(Comparator.comparingInt(Endpoint::id))
        .map(e -> new StoredEndpoint(e.id(), e.key().containerId(), e.key().ifname(),
            e.pod().namespace(), e.pod().name(), e.address().toString(), e.hostIfname(),
            e.hostIfindex(), e.hostMac(), e.podIfMac(), e.podNetns()))
        .toList();
    try {
      StateFiles.writeAtomically(file, JSON.writeValueAsBytes(stored));
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot encode endpoints: " + e.getMessage(), e);
    }
  }
}
