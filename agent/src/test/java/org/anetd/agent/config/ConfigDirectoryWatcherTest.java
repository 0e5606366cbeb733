package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDirectoryWatcherTest {
  private static final Instant ACCEPTED_AT = Instant.parse("2026-01-01T10:00:00Z");
  private static final Map<String, String> GOOD = Map.of("bpf-lb-map-max", "100000",
      "bpf-lb-sock", "true", "enable-policy", "always");
  private static final Map<String, String> BAD = Map.of("bpf-lb-map-max", "lots",
      "bpf-lb-sock", "true", "enable-policy", "always");

  @TempDir
  Path dir;
  @TempDir
  Path stateDir;

  private LastAcceptedConfig saved() {
    return new LastAcceptedConfig(stateDir.resolve("config"),
        Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC));
  }

  /** An agent's start: loadAtStart with the saved copy, on a fresh holder. */
  private ConfigHolder startAgainst(Path configDir) {
    ConfigHolder holder = new ConfigHolder();
    try (ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(
        new DirectoryConfigSource(configDir), holder, Duration.ofSeconds(60), saved())) {
      watcher.loadAtStart();
    }
    return holder;
  }

  private static void assertRunsGood(ConfigHolder holder) {
    assertThat(holder.current().bpfLbMapMax()).isEqualTo(100000);
    assertThat(holder.current().socketLoadBalancing()).isTrue();
    assertThat(holder.current().enablePolicy()).isEqualTo(PolicyEnforcementMode.ALWAYS);
  }

  @Test
  void aRestartWhileTheConfigMapIsRejectedRunsTheLastAcceptedVersionNotTheDefaults()
      throws IOException {
    KubeletMount mount = new KubeletMount(dir);
    mount.publish(GOOD);
    startAgainst(dir);

    mount.publish(BAD);
    ConfigHolder restarted = startAgainst(dir);

    assertRunsGood(restarted);
    assertThat(restarted.lastAcceptedInForce()).hasValueSatisfying(f -> {
      assertThat(f.acceptedAt()).isEqualTo(ACCEPTED_AT);
      assertThat(f.describe()).isEqualTo("running the last accepted cilium-config of"
          + " 2026-01-01T10:00:00Z: the current one is rejected: bpf-lb-map-max: \"lots\" is not"
          + " an integer (allowed: 1..16777216)");
    });
    assertThat(restarted.lastRejection()).isPresent();
    assertThat(restarted.rejectedTotal()).isEqualTo(1);
  }

  @Test
  void aRestartWhileTheConfigMapIsUnreadableRunsTheLastAcceptedVersion() throws IOException {
    Path configDir = Files.createDirectory(dir.resolve("cilium-config"));
    for (Map.Entry<String, String> e : GOOD.entrySet()) {
      Files.writeString(configDir.resolve(e.getKey()), e.getValue());
    }
    startAgainst(configDir);

    ConfigHolder restarted = startAgainst(dir.resolve("missing"));

    assertRunsGood(restarted);
    assertThat(restarted.lastAcceptedInForce()).hasValueSatisfying(f ->
        assertThat(f.problem()).startsWith("unreadable: java.nio.file.NoSuchFileException"));
  }

  @Test
  void withNothingSavedARejectedConfigMapAtStartLeavesTheDefaults() throws IOException {
    new KubeletMount(dir).publish(BAD);

    ConfigHolder holder = startAgainst(dir);

    assertThat(holder.current()).isEqualTo(AgentConfig.defaults());
    assertThat(holder.lastAcceptedInForce()).isEmpty();
    assertThat(holder.lastRejection()).isPresent();
  }

  @Test
  void aVersionAcceptedWhileRunningOnTheSavedOneIsSavedAndEndsTheFallback() throws IOException {
    KubeletMount mount = new KubeletMount(dir);
    mount.publish(GOOD);
    startAgainst(dir);
    mount.publish(BAD);
    ConfigHolder holder = new ConfigHolder();
    try (ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(
        new DirectoryConfigSource(dir), holder, Duration.ofSeconds(60), saved())) {
      watcher.loadAtStart();
      assertThat(watcher.pollOnce()).as("the rejected content was read at start").isFalse();

      mount.publish(Map.of("bpf-lb-map-max", "200000"));

      assertThat(watcher.pollOnce()).isTrue();
    }
    assertThat(holder.current().bpfLbMapMax()).isEqualTo(200000);
    assertThat(holder.lastAcceptedInForce()).isEmpty();
    assertThat(saved().load()).hasValueSatisfying(s ->
        assertThat(s.data()).containsExactlyEntriesOf(Map.of("bpf-lb-map-max", "200000")));
  }

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
