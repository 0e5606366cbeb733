package org.anetd.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.ConfigError;
import org.anetd.agent.config.ConfigKey;
import org.anetd.agent.config.ConfigNotice;
import org.anetd.agent.config.ConfigOrigin;
import org.anetd.agent.config.ConfigParser;
import org.anetd.agent.config.ConfigResult;
import org.anetd.agent.config.DirectoryConfigSource;
import org.anetd.agent.config.EphemeralPortRangeReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code anetd config}: the effective configuration, key by key, with where each value came from,
 * then warnings and errors. Reads a mounted cilium-config directory; reading the ConfigMap from
 * the API server is not implemented yet (it will be another {@code ConfigSource}, see the config
 * package).
 */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = {
        "Print the effective agent configuration: each cilium-config key, its value and its"
            + " origin (default, configmap, flag), then warnings and errors.",
        "Without --config-dir, prints the defaults.",
        "Exit status: 0 config accepted, 1 config rejected (the defaults are shown: a running"
            + " agent would keep its last good config), 2 the directory cannot be read."})
final class ConfigCommand implements Callable<Integer> {
  static final int EXIT_REJECTED = 1;
  static final int EXIT_UNREADABLE = 2;

  enum Output { text, json }

  @Spec
  CommandSpec spec;

  @Option(names = "--config-dir", paramLabel = "DIR",
      description = "The cilium-config ConfigMap mounted as a directory (one file per key).")
  Path configDir;

  @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Output output;

  // Where the node's sysctls are read for the NodePort/ephemeral port check; tests point it
  // at a fake directory.
  @Option(names = "--sysctl-dir", hidden = true, defaultValue = "/proc/sys/net/ipv4")
  Path sysctlDir;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    ConfigResult result;
    if (configDir == null) {
      result = ConfigParser.parse(Map.of(), ConfigOrigin.defaults());
    } else {
      DirectoryConfigSource source = new DirectoryConfigSource(configDir);
      try {
        result = ConfigParser.parse(source.load(), source.origin());
      } catch (IOException e) {
        spec.commandLine().getErr().println("anetd config: cannot read " + configDir + ": " + e);
        return EXIT_UNREADABLE;
      }
    }
    AgentConfig effective = result instanceof ConfigResult.Accepted accepted
        ? accepted.config()
        : AgentConfig.defaults();
    List<String> hostWarnings = hostWarnings(effective);
    if (output == Output.json) {
      out.println(json(result, effective, hostWarnings));
    } else {
      printText(out, result, effective, hostWarnings);
    }
    out.flush();
    return result instanceof ConfigResult.Rejected ? EXIT_REJECTED : 0;
  }

  private List<String> hostWarnings(AgentConfig config) {
    List<String> warnings = new ArrayList<>();
    if (!Files.exists(sysctlDir.resolve("ip_local_port_range"))) {
      return warnings; // not on a Linux node (or /proc/sys not mounted): nothing to check
    }
    try {
      new EphemeralPortRangeReader(sysctlDir).nodePortWarning(config.nodePortRange())
          .ifPresent(warnings::add);
    } catch (IOException | IllegalArgumentException e) {
      warnings.add("cannot check ephemeral ports against node-port-range: " + e.getMessage());
    }
    return warnings;
  }

  private static void printText(PrintWriter out, ConfigResult result, AgentConfig config,
      List<String> hostWarnings) {
    int keyWidth = "KEY".length();
    int valueWidth = "VALUE".length();
    for (ConfigKey key : ConfigKey.values()) {
      keyWidth = Math.max(keyWidth, key.configName().length());
      valueWidth = Math.max(valueWidth, config.formattedValue(key).length());
    }
    String row = "%-" + keyWidth + "s  %-" + valueWidth + "s  %s%n";
    out.printf(row, "KEY", "VALUE", "ORIGIN");
    for (ConfigKey key : ConfigKey.values()) {
      out.printf(row, key.configName(), config.formattedValue(key), config.origin(key));
    }
    if (!result.notices().isEmpty() || !hostWarnings.isEmpty()
        || result instanceof ConfigResult.Rejected) {
      out.println();
    }
    for (ConfigNotice notice : result.notices()) {
      out.println(notice);
    }
    for (String warning : hostWarnings) {
      out.println("warning: " + warning);
    }
    if (result instanceof ConfigResult.Rejected rejected) {
      for (ConfigError error : rejected.errors()) {
        out.println("error: " + error);
      }
      out.println("rejected: " + rejected.errors().size() + " invalid value(s) in "
          + rejected.source() + "; a running agent keeps its last good config (shown above:"
          + " the defaults)");
    }
  }

  private static String json(ConfigResult result, AgentConfig config, List<String> hostWarnings) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("source", result.source().toString());
    doc.put("accepted", result instanceof ConfigResult.Accepted);
    List<Map<String, Object>> keys = new ArrayList<>();
    for (ConfigKey key : ConfigKey.values()) {
      Map<String, Object> k = new LinkedHashMap<>();
      k.put("key", key.configName());
      Object value = config.value(key);
      // Booleans and integers as JSON types, everything else as its ConfigMap spelling.
      k.put("value", value instanceof Boolean || value instanceof Integer
          ? value : config.formattedValue(key));
      k.put("origin", config.origin(key).kind().name().toLowerCase(java.util.Locale.ROOT));
      k.put("originSource", config.origin(key).source());
      keys.add(k);
    }
    doc.put("keys", keys);
    List<Map<String, Object>> notices = new ArrayList<>();
    for (ConfigNotice n : result.notices()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("severity", n.severity().name().toLowerCase(java.util.Locale.ROOT));
      m.put("key", n.key());
      m.put("message", n.message());
      notices.add(m);
    }
    doc.put("notices", notices);
    List<Map<String, Object>> errors = new ArrayList<>();
    if (result instanceof ConfigResult.Rejected rejected) {
      for (ConfigError e : rejected.errors()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", e.key());
        m.put("value", e.value());
        m.put("problem", e.problem());
        m.put("allowed", e.allowed());
        m.put("message", e.toString());
        errors.add(m);
      }
    }
    doc.put("errors", errors);
    doc.put("hostWarnings", hostWarnings);
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(doc);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("maps of strings always serialize", e);
    }
  }
}
