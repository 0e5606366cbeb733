package org.anetd.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The raw data of the last cilium-config version the agent accepted, kept on the node (under the
 * agent's state directory, a hostPath) so that an agent restarted while the ConfigMap is rejected
 * or unreadable runs what the previous agent ran instead of the built-in defaults: defaults could
 * detach socket load balancing, change policy enforcement, or pin fresh, empty maps under another
 * size or bpf-root.
 *
 * <p>The copy is the key/value data, not the parsed config: it is read back through
 * {@link ConfigParser}, like any other version. It is written to a temporary file, forced to disk
 * and renamed over the previous copy, so a crash leaves the old copy or the new one, never a mix.
 * Format: a {@link Properties} file with {@code accepted-at}, {@code source} and one
 * {@code data.<key>} entry per ConfigMap key.
 */
public final class LastAcceptedConfig {
  public static final String FILE_NAME = "last-accepted.properties";
  private static final String ACCEPTED_AT = "accepted-at";
  private static final String SOURCE = "source";
  private static final String DATA_PREFIX = "data.";

  /** A saved copy: the data, where it had been read from, and when it was accepted. */
  public record Saved(Map<String, String> data, String source, Instant acceptedAt) {
    public Saved {
      data = Map.copyOf(data);
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(acceptedAt, "acceptedAt");
    }
  }

  private final Path file;
  private final Clock clock;

  /** Keeps the copy in {@code directory} (created on the first save). */
  public LastAcceptedConfig(Path directory, Clock clock) {
    this.file = Objects.requireNonNull(directory, "directory").resolve(FILE_NAME);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public Path file() {
    return file;
  }

  /** Replaces the copy with {@code data}, accepted now from {@code source}. */
  public void save(Map<String, String> data, ConfigOrigin source) throws IOException {
    Properties p = new Properties();
    p.setProperty(ACCEPTED_AT, clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
    p.setProperty(SOURCE, source.toString());
    new TreeMap<>(data).forEach((k, v) -> p.setProperty(DATA_PREFIX + k, v == null ? "" : v));
    StringWriter text = new StringWriter();
    p.store(text, "the last cilium-config accepted by anetd; read at start when the current one"
        + " is rejected or unreadable");
    DurableFiles.writeAtomically(file, text.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The saved copy, or empty when none was ever saved.
   *
   * @throws IOException when a copy is there but cannot be read or is not one
   */
  public Optional<Saved> load() throws IOException {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IllegalArgumentException e) { // a malformed \\uXXXX escape
      throw new IOException(file + " is not a saved cilium-config: " + e.getMessage(), e);
    }
    String at = p.getProperty(ACCEPTED_AT);
    if (at == null) {
      throw new IOException(file + " is not a saved cilium-config: no " + ACCEPTED_AT);
    }
    Instant acceptedAt;
    try {
      acceptedAt = Instant.parse(at);
    } catch (DateTimeParseException e) {
      throw new IOException(file + " is not a saved cilium-config: " + ACCEPTED_AT + " "
          + e.getMessage(), e);
    }
    Map<String, String> data = new TreeMap<>();
    for (String name : p.stringPropertyNames()) {
      if (name.startsWith(DATA_PREFIX)) {
        data.put(name.substring(DATA_PREFIX.length()), p.getProperty(name));
      }
    }
    return Optional.of(new Saved(data, p.getProperty(SOURCE, ""), acceptedAt));
  }
}
