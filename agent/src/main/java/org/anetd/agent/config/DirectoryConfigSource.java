package org.anetd.agent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A ConfigMap mounted as a directory: one file per key, the file's content is the value.
 *
 * <p>Kubernetes writes the files into a timestamped directory {@code ..2024_01_01_00_00_00.123},
 * points the symlink {@code ..data} at it, and makes each key a symlink {@code key ->
 * ..data/key}. An update writes a new timestamped directory and swaps {@code ..data} atomically.
 * Reading through the resolved {@code ..data} (when present) therefore gives one consistent
 * version, never a mix of old and new files. Entries starting with a dot are Kubernetes'
 * bookkeeping, never keys.
 */
public final class DirectoryConfigSource implements ConfigSource {
  private static final String DATA_LINK = "..data";

  private final Path directory;

  public DirectoryConfigSource(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory");
  }

  public Path directory() {
    return directory;
  }

  @Override
  public ConfigOrigin origin() {
    return ConfigOrigin.configMap(directory.toString());
  }

  @Override
  public Map<String, String> load() throws IOException {
    Path dataLink = directory.resolve(DATA_LINK);
    // Resolve ..data once: every file then comes from the same version of the ConfigMap.
    Path version = Files.isDirectory(dataLink) ? dataLink.toRealPath() : directory;
    Map<String, String> data = new TreeMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(version)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (isKeyName(name) && Files.isRegularFile(entry)) {
          data.put(name, Files.readString(entry, StandardCharsets.UTF_8).trim());
        }
      }
    }
    return data;
  }

  /** {@code ..data}, {@code ..2024_...} and other dotfiles are not keys. */
  static boolean isKeyName(String fileName) {
    return !fileName.startsWith(".");
  }
}
