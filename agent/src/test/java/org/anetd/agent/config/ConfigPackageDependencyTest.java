package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The config room depends on nothing else in the agent (package-info): every room may use it. */
class ConfigPackageDependencyTest {
  private static final Path SOURCES = Path.of("src/main/java/org/anetd/agent/config");

  @Test
  void importsNoOtherAgentPackage() throws IOException {
    List<String> offending;
    try (Stream<Path> files = Files.list(SOURCES)) {
      offending = files.filter(f -> f.toString().endsWith(".java"))
          .flatMap(f -> {
            try {
              return Files.readAllLines(f).stream()
                  .filter(l -> l.startsWith("import org.anetd.agent.")
                      && !l.startsWith("import org.anetd.agent.config."))
                  .map(l -> f.getFileName() + ": " + l);
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          })
          .toList();
    }
    assertThat(SOURCES).isDirectory();
    assertThat(offending).isEmpty();
  }
}
