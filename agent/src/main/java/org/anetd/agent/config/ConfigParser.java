package org.anetd.agent.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns cilium-config data (a ConfigMap's {@code data}, or the files of its mounted directory)
 * into a {@link ConfigResult}. Pure: no I/O, no clock, no state.
 *
 * <p>Precedence, lowest first: default, ConfigMap, flag. One invalid value rejects the whole load,
 * with every error listed, so an operator fixes them in one edit rather than one per reload.
 */
public final class ConfigParser {
  private ConfigParser() {}

  static final AgentConfig DEFAULTS = defaultsOrFail();

  /** Parses ConfigMap {@code data} read from {@code source}; no flags. */
  public static ConfigResult parse(Map<String, String> data, ConfigOrigin source) {
    return parse(data, source, Map.of());
  }

  /**
   * Parses ConfigMap {@code data} read from {@code source}, then applies {@code flags} (values
   * given on the command line, which win over the ConfigMap).
   */
  public static ConfigResult parse(Map<String, String> data, ConfigOrigin source,
      Map<ConfigKey, String> flags) {
    Objects.requireNonNull(source, "source");
    EnumMap<ConfigKey, Object> values = defaultValues();
    EnumMap<ConfigKey, ConfigOrigin> origins = defaultOrigins();
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigNotice> notices = new ArrayList<>();
    // Values given under a deprecated alias; resolved against the real key once all are read.
    Map<ConfigKey, String> aliasValues = new EnumMap<>(ConfigKey.class);
    Map<ConfigKey, Object> aliasParsed = new EnumMap<>(ConfigKey.class);

    // Sorted, so that errors and notices come out in the same order on every reload.
    for (Map.Entry<String, String> entry : new TreeMap<>(data).entrySet()) {
      String name = entry.getKey();
      String raw = entry.getValue() == null ? "" : entry.getValue().trim();
      Optional<ConfigKey> key = ConfigKey.byName(name);
      Optional<ConfigKey> aliasOf = ConfigKey.byAlias(name);
      if (key.isPresent()) {
        parseInto(key.get(), name, raw, source, values, origins, errors, notices);
      } else if (aliasOf.isPresent()) {
        ParsedValue parsed = aliasOf.get().parse(raw);
        if (parsed.isValid()) {
          aliasValues.put(aliasOf.get(), raw);
          aliasParsed.put(aliasOf.get(), parsed.value());
        } else {
          errors.add(new ConfigError(name, raw, parsed.problem(), aliasOf.get().allowed()));
        }
      } else if (KnownIgnoredKeys.contains(name)) {
        notices.add(ConfigNotice.info(name, "Cilium key not implemented by anetd, ignored ("
            + KnownIgnoredKeys.reason(name).orElseThrow() + ")"));
      } else {
        notices.add(ConfigNotice.warning(name, "unknown key, ignored" + suggestion(name)));
      }
    }

    for (Map.Entry<ConfigKey, Object> alias : aliasParsed.entrySet()) {
      resolveAlias(alias.getKey(), aliasValues.get(alias.getKey()), alias.getValue(), data,
          source, values, origins, errors, notices);
    }

    for (Map.Entry<ConfigKey, String> flag : new TreeMap<>(flags).entrySet()) {
      ConfigKey key = flag.getKey();
      parseInto(key, "--" + key.configName(), flag.getValue().trim(),
          ConfigOrigin.flag("--" + key.configName()), values, origins, errors, notices);
    }

    if (!errors.isEmpty()) {
      return new ConfigResult.Rejected(source, errors, notices);
    }
    return new ConfigResult.Accepted(source, AgentConfig.of(values, origins), notices);
  }

  private static void parseInto(ConfigKey key, String writtenAs, String raw, ConfigOrigin origin,
      Map<ConfigKey, Object> values, Map<ConfigKey, ConfigOrigin> origins,
      List<ConfigError> errors, List<ConfigNotice> notices) {
    ParsedValue parsed = key.parse(raw);
    if (!parsed.isValid()) {
      errors.add(new ConfigError(writtenAs, raw, parsed.problem(), key.allowed()));
      return;
    }
    parsed.noteIfAny().ifPresent(note -> notices.add(ConfigNotice.warning(writtenAs, note)));
    values.put(key, parsed.value());
    origins.put(key, origin);
  }

  /**
   * A deprecated alias (enable-host-reachable-services for bpf-lb-sock) is honoured when the real
   * key is absent. When both are set they must agree: picking one silently would make the
   * effective value depend on which key the operator happened to edit last.
   */
  private static void resolveAlias(ConfigKey key, String aliasRaw, Object aliasValue,
      Map<String, String> data, ConfigOrigin source, Map<ConfigKey, Object> values,
      Map<ConfigKey, ConfigOrigin> origins, List<ConfigError> errors,
      List<ConfigNotice> notices) {
    String alias = key.deprecatedAlias().orElseThrow();
    if (!data.containsKey(key.configName())) {
      values.put(key, aliasValue);
      origins.put(key, source);
      notices.add(ConfigNotice.warning(alias,
          "deprecated alias of " + key.configName() + ", read as " + key.configName() + ": "
              + ConfigKey.format(aliasValue) + "; rename the key"));
      return;
    }
    String primaryRaw = data.get(key.configName()).trim();
    ParsedValue primary = key.parse(primaryRaw);
    if (!primary.isValid()) {
      return; // already reported against the real key
    }
    if (!primary.value().equals(aliasValue)) {
      errors.add(new ConfigError(key.configName(), primaryRaw,
          "conflicts with its deprecated alias " + alias + ": " + ConfigError.quote(aliasRaw)
              + "; remove " + alias,
          key.allowed()));
    } else {
      notices.add(ConfigNotice.warning(alias,
          "deprecated alias of " + key.configName() + " (same value), ignored; remove it"));
    }
  }

  private static String suggestion(String unknown) {
    return Arrays.stream(ConfigKey.values())
        .map(ConfigKey::configName)
        .filter(name -> editDistance(unknown, name) <= 2)
        .min(Comparator.comparingInt(name -> editDistance(unknown, name)))
        .map(name -> " (did you mean " + name + "?)")
        .orElse("");
  }

  /** Levenshtein distance; keys are short, so the quadratic table is fine. */
  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitution, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static EnumMap<ConfigKey, Object> defaultValues() {
    EnumMap<ConfigKey, Object> values = new EnumMap<>(ConfigKey.class);
    for (ConfigKey key : ConfigKey.values()) {
      values.put(key, key.parse(key.defaultValue()).value());
    }
    return values;
  }

  private static EnumMap<ConfigKey, ConfigOrigin> defaultOrigins() {
    EnumMap<ConfigKey, ConfigOrigin> origins = new EnumMap<>(ConfigKey.class);
    for (ConfigKey key : ConfigKey.values()) {
      origins.put(key, ConfigOrigin.defaults());
    }
    return origins;
  }

  // A default that does not parse is a programming error: fail at class load, loudly.
  private static AgentConfig defaultsOrFail() {
    for (ConfigKey key : ConfigKey.values()) {
      ParsedValue parsed = key.parse(key.defaultValue());
      if (!parsed.isValid()) {
        throw new IllegalStateException("default of " + key.configName() + " is invalid: "
            + parsed.problem());
      }
    }
    return AgentConfig.of(defaultValues(), defaultOrigins());
  }
}
