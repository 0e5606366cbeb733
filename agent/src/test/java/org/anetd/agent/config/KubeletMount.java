package org.anetd.agent.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Writes a directory the way the kubelet mounts a ConfigMap: a timestamped directory with the
 * files, a {@code ..data} symlink to it swapped atomically on update, and one {@code key ->
 * ..data/key} symlink per key.
 */
final class KubeletMount {
  private final Path dir;
  private int version;

  KubeletMount(Path dir) {
    this.dir = dir;
  }

  void publish(Map<String, String> data) throws IOException {
    Path versionDir = dir.resolve("..2025_01_01_00_00_0" + version++ + ".000");
    Files.createDirectory(versionDir);
    for (Map.Entry<String, String> e : data.entrySet()) {
      Files.writeString(versionDir.resolve(e.getKey()), e.getValue());
    }
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, versionDir.getFileName());
    // rename(2) over the old ..data: readers see the old or the new version, never neither.
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    for (String key : data.keySet()) {
      Path link = dir.resolve(key);
      if (!Files.isSymbolicLink(link)) {
        Files.createSymbolicLink(link, Path.of("..data").resolve(key));
      }
    }
  }
}
