package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DirectoryConfigSourceTest {
  @TempDir
  Path dir;

  @Test
  void readsAKubeletMountedConfigMapThroughDotDotData() throws IOException {
    KubeletMount mount = new KubeletMount(dir);
    mount.publish(Map.of("debug", "true\n", "bpf-lb-map-max", "  300000  "));

    Map<String, String> data = new DirectoryConfigSource(dir).load();

    assertThat(data).containsExactlyInAnyOrderEntriesOf(
        Map.of("debug", "true", "bpf-lb-map-max", "300000"));
  }

  @Test
  void readsAPlainDirectorySkippingDotfilesAndSubdirectories() throws IOException {
    Files.writeString(dir.resolve("debug"), "true");
    Files.writeString(dir.resolve(".hidden"), "x");
    Files.writeString(dir.resolve("..2025_01_01_00_00_00.000"), "x");
    Files.createDirectory(dir.resolve("nested"));

    assertThat(new DirectoryConfigSource(dir).load()).containsExactly(Map.entry("debug", "true"));
  }

  @Test
  void emptyDirectoryGivesNoData() throws IOException {
    assertThat(new DirectoryConfigSource(dir).load()).isEmpty();
  }

  @Test
  void missingDirectoryIsAnIoError() {
    assertThatThrownBy(() -> new DirectoryConfigSource(dir.resolve("absent")).load())
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void originNamesTheDirectory() {
    assertThat(new DirectoryConfigSource(dir).origin())
        .isEqualTo(ConfigOrigin.configMap(dir.toString()));
  }

  @ParameterizedTest
  @CsvSource({"debug,true", "..data,false", "..2025_01_01_00_00_00.1,false", ".x,false",
      "bpf-lb-map-max,true"})
  void onlyNamesWithoutALeadingDotAreKeys(String name, boolean isKey) {
    assertThat(DirectoryConfigSource.isKeyName(name)).isEqualTo(isKey);
  }
}
