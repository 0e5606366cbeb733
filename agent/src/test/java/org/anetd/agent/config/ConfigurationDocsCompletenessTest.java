package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md documents every {@link ConfigKey} exactly once, with its real default,
 * and nothing that is not a key (after Flink's ConfigOptionsDocsCompletenessITCase).
 */
class ConfigurationDocsCompletenessTest {
  // Surefire runs with basedir = agent/, so the repository's docs are one level up.
  private static final Path DOCS = Path.of("..", "docs", "configuration.md");
  // A row of the keys table: | `key` | type | `default` | ...
  private static final Pattern KEY_ROW =
      Pattern.compile("^\\|\\s*`([a-z0-9-]+)`\\s*\\|[^|]*\\|\\s*`([^`]*)`\\s*\\|", Pattern.MULTILINE);
  private static final Pattern IGNORED_ITEM = Pattern.compile("^- `([a-z0-9-]+)`", Pattern.MULTILINE);

  private static List<String[]> rows;
  private static List<String> ignored;

  @BeforeAll
  static void readDocs() throws IOException {
    assertThat(DOCS).as("docs/configuration.md relative to %s", Path.of("").toAbsolutePath())
        .isRegularFile();
    String text = Files.readString(DOCS);
    Matcher m = KEY_ROW.matcher(section(text, "## Keys"));
    rows = new java.util.ArrayList<>();
    while (m.find()) {
      rows.add(new String[] {m.group(1), m.group(2)});
    }
    Matcher i = IGNORED_ITEM.matcher(section(text, "### Cilium keys that anetd ignores"));
    ignored = new java.util.ArrayList<>();
    while (i.find()) {
      ignored.add(i.group(1));
    }
  }

  /** From {@code heading} to the next heading; fails when the heading is missing. */
  private static String section(String text, String heading) {
    int start = text.indexOf("\n" + heading + "\n");
    assertThat(start).as("heading \"%s\" in %s", heading, DOCS).isNotNegative();
    Matcher next = Pattern.compile("^#{2,3} ", Pattern.MULTILINE).matcher(text);
    int end = next.find(start + heading.length() + 2) ? next.start() : text.length();
    return text.substring(start, end);
  }

  @ParameterizedTest
  @EnumSource(ConfigKey.class)
  void keyIsDocumentedExactlyOnceWithItsDefault(ConfigKey key) {
    List<String[]> mine = rows.stream().filter(r -> r[0].equals(key.configName())).toList();
    assertThat(mine).as("rows for %s in %s", key.configName(), DOCS).hasSize(1);
    assertThat(mine.get(0)[1]).as("documented default of %s", key.configName())
        .isEqualTo(key.defaultValue());
  }

  @Test
  void documentsNoKeyThatDoesNotExist() {
    Map<String, ConfigKey> keys = java.util.Arrays.stream(ConfigKey.values())
        .collect(Collectors.toMap(ConfigKey::configName, Function.identity()));
    assertThat(rows).extracting(r -> r[0]).allSatisfy(name -> assertThat(keys).containsKey(name));
  }

  static List<String> knownIgnoredKeys() {
    return List.copyOf(KnownIgnoredKeys.all().keySet());
  }

  @ParameterizedTest
  @MethodSource("knownIgnoredKeys")
  void ignoredCiliumKeyIsListedOnce(String name) {
    assertThat(ignored).as("ignored keys in %s", DOCS).containsOnlyOnce(name);
  }

  @Test
  void listsNoIgnoredKeyThatIsNotIgnored() {
    assertThat(ignored).allSatisfy(name -> assertThat(KnownIgnoredKeys.contains(name)).isTrue());
  }
}
