package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LastAcceptedConfigTest {
  private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");

  @TempDir
  Path stateDir;

  private LastAcceptedConfig copy() {
    return new LastAcceptedConfig(stateDir.resolve("config"), Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  void theSavedCopyReadsBackTheSameDataWhateverTheValuesHold() throws IOException {
    Map<String, String> data = Map.of("cgroup-root", "/run/anetd/cgroup",
        "node-port-range", "30000-32767", "odd", "a=b: #c \\ \n \u00e9", "empty", "");

    copy().save(data, ConfigOrigin.configMap("/etc/config"));

    assertThat(copy().load()).hasValueSatisfying(saved -> {
      assertThat(saved.data()).containsExactlyInAnyOrderEntriesOf(data);
      assertThat(saved.acceptedAt()).isEqualTo(NOW);
      assertThat(saved.source()).isEqualTo("configmap /etc/config");
    });
    assertThat(Files.list(copy().file().getParent())).containsExactly(copy().file());
  }

  @Test
  void nothingSavedIsEmptyAndAFileThatIsNoCopyIsAnError() throws IOException {
    assertThat(copy().load()).isEmpty();

    Files.createDirectories(copy().file().getParent());
    Files.writeString(copy().file(), "data.debug=true\n");

    assertThatThrownBy(() -> copy().load()).isInstanceOf(IOException.class)
        .hasMessageContaining("is not a saved cilium-config");
  }
}
