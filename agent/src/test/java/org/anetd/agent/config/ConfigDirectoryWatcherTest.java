package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDirectoryWatcherTest {
  @TempDir
  Path dir;

  @Test
  void picksUpAConfigMapUpdateAndNotifiesListeners() throws IOException {
    KubeletMount mount = new KubeletMount(dir);
    mount.publish(Map.of("bpf-lb-map-max", "100000"));
    ConfigHolder holder = new ConfigHolder();
    List<AgentConfig> heard = new CopyOnWriteArrayList<>();
    holder.addListener(heard::add);

    try (ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(
        new DirectoryConfigSource(dir), holder, Duration.ofMillis(20))) {
      watcher.start();
      await().atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(holder.current().bpfLbMapMax()).isEqualTo(100000));

      mount.publish(Map.of("bpf-lb-map-max", "400000", "debug", "true"));

      await().atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(holder.current().bpfLbMapMax()).isEqualTo(400000));
      assertThat(holder.current().debug()).isTrue();
      assertThat(heard).extracting(AgentConfig::bpfLbMapMax).containsExactly(100000, 400000);
    }
  }

  @Test
  void aBadUpdateKeepsTheLastGoodConfigAndIsRecorded() throws IOException {
    KubeletMount mount = new KubeletMount(dir);
    mount.publish(Map.of("bpf-lb-map-max", "100000"));
    ConfigHolder holder = new ConfigHolder();
    try (ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(
        new DirectoryConfigSource(dir), holder, Duration.ofMillis(20))) {
      watcher.start();
      await().atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(holder.current().bpfLbMapMax()).isEqualTo(100000));

      mount.publish(Map.of("bpf-lb-map-max", "lots"));

      await().atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(holder.lastRejection()).isPresent());
      assertThat(holder.current().bpfLbMapMax()).isEqualTo(100000);
    }
  }

  @Test
  void unchangedContentIsNotReparsedAndUnreadableDirectoryKeepsTheConfig() throws IOException {
    Path configDir = Files.createDirectory(dir.resolve("cilium-config"));
    Files.writeString(configDir.resolve("debug"), "true");
    ConfigHolder holder = new ConfigHolder();
    try (ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(
        new DirectoryConfigSource(configDir), holder, Duration.ofSeconds(60))) {
      assertThat(watcher.pollOnce()).isTrue();
      assertThat(watcher.pollOnce()).isFalse();
      assertThat(holder.acceptedTotal()).isEqualTo(1);

      Files.delete(configDir.resolve("debug"));
      Files.delete(configDir);
      assertThat(watcher.pollOnce()).isFalse();
      assertThat(holder.current().debug()).isTrue();
    }
  }
}
