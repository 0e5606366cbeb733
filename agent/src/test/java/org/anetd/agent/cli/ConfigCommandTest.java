package org.anetd.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.anetd.agent.config.ConfigKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConfigCommandTest {
  @TempDir
  Path tmp;
  Path configDir;
  Path sysctl;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void dirs() throws IOException {
    configDir = Files.createDirectory(tmp.resolve("cilium-config"));
    sysctl = Files.createDirectory(tmp.resolve("sysctl"));
    Files.writeString(sysctl.resolve("ip_local_port_range"), "32768\t60999\n");
  }

  /** Runs through Main, so the test also proves {@code config} is registered there. */
  private int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("config", "--sysctl-dir", sysctl.toString()));
    all.addAll(List.of(args));
    return cli.execute(all.toArray(String[]::new));
  }

  @Test
  void withoutADirectoryPrintsEveryKeyAtItsDefault() {
    assertThat(run()).isZero();
    String text = out.toString();
    assertThat(text).startsWith("KEY");
    for (ConfigKey key : ConfigKey.values()) {
      assertThat(text).containsPattern("(?m)^" + key.configName() + " +"
          + java.util.regex.Pattern.quote(key.defaultValue()) + " +default$");
    }
  }

  @Test
  void textShowsValuesOriginsAndWarnings() throws IOException {
    Files.writeString(configDir.resolve("bpf-lb-map-max"), "300000\n");
    Files.writeString(configDir.resolve("cluster-name"), "c1");
    Files.writeString(configDir.resolve("bpf-lb-map-mx"), "1");

    assertThat(run("--config-dir", configDir.toString())).isZero();

    assertThat(out.toString())
        .containsPattern("(?m)^bpf-lb-map-max +300000 +configmap " + configDir + "$")
        .containsPattern("(?m)^debug +false +default$")
        .contains("warning: bpf-lb-map-mx: unknown key, ignored (did you mean bpf-lb-map-max?)")
        .contains("info: cluster-name: Cilium key not implemented by anetd");
  }

  @Test
  void rejectedConfigExitsOneAndListsEveryError() throws IOException {
    Files.writeString(configDir.resolve("bpf-lb-map-max"), "abc");
    Files.writeString(configDir.resolve("enable-policy"), "sometimes");

    assertThat(run("--config-dir", configDir.toString())).isEqualTo(ConfigCommand.EXIT_REJECTED);

    assertThat(out.toString())
        .contains("error: bpf-lb-map-max: \"abc\" is not an integer (allowed: 1..16777216)")
        .contains("error: enable-policy: \"sometimes\" is not one of the allowed values"
            + " (allowed: default|always|never)")
        .contains("rejected: 2 invalid value(s)")
        .containsPattern("(?m)^bpf-lb-map-max +65536 +default$");
  }

  @Test
  void jsonHasTypedValuesOriginsNoticesAndErrors() throws IOException {
    Files.writeString(configDir.resolve("kube-proxy-replacement"), "strict");
    Files.writeString(configDir.resolve("bpf-lb-map-max"), "300000");

    assertThat(run("--config-dir", configDir.toString(), "--output", "json")).isZero();

    JsonNode doc = new ObjectMapper().readTree(out.toString());
    assertThat(doc.get("accepted").asBoolean()).isTrue();
    assertThat(doc.get("source").asText()).isEqualTo("configmap " + configDir);
    assertThat(doc.get("keys")).hasSize(ConfigKey.values().length);
    JsonNode lbMax = find(doc.get("keys"), "bpf-lb-map-max");
    assertThat(lbMax.get("value").isInt()).isTrue();
    assertThat(lbMax.get("value").asInt()).isEqualTo(300000);
    assertThat(lbMax.get("origin").asText()).isEqualTo("configmap");
    assertThat(lbMax.get("originSource").asText()).isEqualTo(configDir.toString());
    JsonNode kpr = find(doc.get("keys"), "kube-proxy-replacement");
    assertThat(kpr.get("value").isBoolean()).isTrue();
    assertThat(kpr.get("value").asBoolean()).isTrue();
    assertThat(find(doc.get("keys"), "node-port-range").get("value").asText())
        .isEqualTo("30000-32767");
    assertThat(doc.get("notices").get(0).get("key").asText())
        .isEqualTo("kube-proxy-replacement");
    assertThat(doc.get("errors")).isEmpty();
    assertThat(doc.get("hostWarnings")).isEmpty();
  }

  @Test
  void jsonOfARejectedConfigCarriesTheErrors() throws IOException {
    Files.writeString(configDir.resolve("debug"), "maybe");
    assertThat(run("--config-dir", configDir.toString(), "--output", "json"))
        .isEqualTo(ConfigCommand.EXIT_REJECTED);
    JsonNode doc = new ObjectMapper().readTree(out.toString());
    assertThat(doc.get("accepted").asBoolean()).isFalse();
    assertThat(doc.get("errors").get(0).get("message").asText())
        .isEqualTo("debug: \"maybe\" is not a boolean (allowed: true|false)");
  }

  @Test
  void warnsWhenTheNodesEphemeralRangeOverlapsNodePorts() throws IOException {
    Files.writeString(sysctl.resolve("ip_local_port_range"), "32000\t60999\n");
    assertThat(run()).isZero();
    assertThat(out.toString()).contains("warning: net.ipv4.ip_local_port_range 32000-60999"
        + " overlaps node-port-range 30000-32767 on 32000-32767");
  }

  @Test
  void unreadableDirectoryExitsTwo() {
    assertThat(run("--config-dir", tmp.resolve("absent").toString()))
        .isEqualTo(ConfigCommand.EXIT_UNREADABLE);
    assertThat(err.toString()).contains("cannot read");
  }

  @Test
  void unknownOutputFormatIsAUsageError() {
    assertThat(run("--output", "yaml")).isEqualTo(2);
    assertThat(err.toString()).contains("--output");
  }

  private static JsonNode find(JsonNode keys, String name) {
    for (JsonNode k : keys) {
      if (k.get("key").asText().equals(name)) {
        return k;
      }
    }
    throw new AssertionError("no key " + name);
  }
}
