package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigParserTest {
  private static final ConfigOrigin DIR = ConfigOrigin.configMap("/etc/cilium-config");

  private static AgentConfig accepted(Map<String, String> data) {
    ConfigResult result = ConfigParser.parse(data, DIR);
    assertThat(result).isInstanceOf(ConfigResult.Accepted.class);
    return ((ConfigResult.Accepted) result).config();
  }

  private static ConfigResult.Rejected rejected(Map<String, String> data) {
    ConfigResult result = ConfigParser.parse(data, DIR);
    assertThat(result).isInstanceOf(ConfigResult.Rejected.class);
    return (ConfigResult.Rejected) result;
  }

  static Stream<Arguments> validValues() {
    return Stream.of(
        Arguments.of("kube-proxy-replacement", "true", true),
        Arguments.of("kube-proxy-replacement", "false", false),
        Arguments.of("kube-proxy-replacement", "strict", true),
        Arguments.of("kube-proxy-replacement", "disabled", false),
        Arguments.of("kube-proxy-replacement", "Strict", true),
        Arguments.of("bpf-lb-sock", "true", Optional.of(true)),
        Arguments.of("bpf-lb-sock", "FALSE", Optional.of(false)),
        Arguments.of("bpf-lb-sock", "1", Optional.of(true)),
        Arguments.of("bpf-lb-sock", "f", Optional.of(false)),
        Arguments.of("bpf-lb-sock", "", Optional.empty()),
        Arguments.of("bpf-lb-map-max", "1", 1),
        Arguments.of("bpf-lb-map-max", "65536", 65536),
        Arguments.of("bpf-lb-map-max", "262145", 262145), // past 262144 must be allowed
        Arguments.of("bpf-lb-map-max", "1048576", 1048576),
        Arguments.of("bpf-lb-map-max", "16777216", 16777216),
        Arguments.of("bpf-lb-map-max", "  131072\n", 131072), // trimmed
        Arguments.of("bpf-ct-global-tcp-max", "1024", 1024),
        Arguments.of("bpf-ct-global-tcp-max", "1048576", 1048576),
        Arguments.of("bpf-ct-global-any-max", "16777216", 16777216),
        Arguments.of("bpf-policy-map-max", "256", 256),
        Arguments.of("bpf-policy-map-max", "65536", 65536),
        Arguments.of("node-port-range", "30000-32767", new PortRange(30000, 32767)),
        Arguments.of("node-port-range", "30000,32767", new PortRange(30000, 32767)),
        Arguments.of("node-port-range", "1-65534", new PortRange(1, 65534)),
        Arguments.of("node-port-range", "1025-65535", new PortRange(1025, 65535)),
        Arguments.of("node-port-range", "20000, 22767", new PortRange(20000, 22767)),
        Arguments.of("enable-policy", "default", PolicyEnforcementMode.DEFAULT),
        Arguments.of("enable-policy", "always", PolicyEnforcementMode.ALWAYS),
        Arguments.of("enable-policy", "Never", PolicyEnforcementMode.NEVER),
        Arguments.of("policy-audit-mode", "true", true),
        Arguments.of("debug", "true", true),
        Arguments.of("policy-action-log", "/var/log/x/../policy.log", Path.of("/var/log/policy.log")),
        Arguments.of("log-format", "json", LogFormat.JSON),
        Arguments.of("log-format", "text", LogFormat.TEXT),
        Arguments.of("prometheus-serve-addr", ":9090", Optional.of(new ListenAddress("", 9090))),
        Arguments.of("prometheus-serve-addr", "127.0.0.1:9962",
            Optional.of(new ListenAddress("127.0.0.1", 9962))),
        Arguments.of("prometheus-serve-addr", "[::1]:9962",
            Optional.of(new ListenAddress("::1", 9962))),
        Arguments.of("prometheus-serve-addr", "", Optional.empty()),
        Arguments.of("health-serve-addr", "localhost:9876", new ListenAddress("localhost", 9876)),
        Arguments.of("bpf-root", "/sys/fs/bpf/tc/anetd", Path.of("/sys/fs/bpf/tc/anetd")),
        Arguments.of("cgroup-root", "/run/anetd/cgroup", Optional.of(Path.of("/run/anetd/cgroup"))),
        Arguments.of("cgroup-root", "", Optional.empty()));
  }

  @ParameterizedTest(name = "{0}: \"{1}\"")
  @MethodSource("validValues")
  void validValueIsAcceptedWithItsTypedValueAndConfigMapOrigin(String key, String raw,
      Object expected) {
    AgentConfig config = accepted(Map.of(key, raw));
    ConfigKey configKey = ConfigKey.byName(key).orElseThrow();
    assertThat(config.value(configKey)).isEqualTo(expected);
    assertThat(config.origin(configKey)).isEqualTo(DIR);
  }

  static Stream<Arguments> invalidValues() {
    return Stream.of(
        Arguments.of("bpf-lb-map-max", "abc",
            "bpf-lb-map-max: \"abc\" is not an integer (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "0",
            "bpf-lb-map-max: \"0\" is out of range (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "16777217",
            "bpf-lb-map-max: \"16777217\" is out of range (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "99999999999999999999",
            "bpf-lb-map-max: \"99999999999999999999\" is out of range (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "64k",
            "bpf-lb-map-max: \"64k\" is not an integer (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "1.5",
            "bpf-lb-map-max: \"1.5\" is not an integer (allowed: 1..16777216)"),
        Arguments.of("bpf-lb-map-max", "",
            "bpf-lb-map-max: \"\" is not an integer (allowed: 1..16777216)"),
        Arguments.of("bpf-ct-global-tcp-max", "-1",
            "bpf-ct-global-tcp-max: \"-1\" is out of range (allowed: 1024..16777216)"),
        Arguments.of("bpf-ct-global-tcp-max", "1023",
            "bpf-ct-global-tcp-max: \"1023\" is out of range (allowed: 1024..16777216)"),
        Arguments.of("bpf-ct-global-any-max", "0x1000",
            "bpf-ct-global-any-max: \"0x1000\" is not an integer (allowed: 1024..16777216)"),
        Arguments.of("bpf-policy-map-max", "65537",
            "bpf-policy-map-max: \"65537\" is out of range (allowed: 256..65536)"),
        Arguments.of("bpf-policy-map-max", "255",
            "bpf-policy-map-max: \"255\" is out of range (allowed: 256..65536)"),
        Arguments.of("kube-proxy-replacement", "partial",
            "kube-proxy-replacement: \"partial\" is a legacy Cilium mode that anetd does not"
                + " support (it replaces kube-proxy fully or not at all): set \"true\" or"
                + " \"false\" (allowed: true|false (legacy: strict, disabled))"),
        Arguments.of("kube-proxy-replacement", "probe",
            "kube-proxy-replacement: \"probe\" is a legacy Cilium mode that anetd does not"
                + " support (it replaces kube-proxy fully or not at all): set \"true\" or"
                + " \"false\" (allowed: true|false (legacy: strict, disabled))"),
        Arguments.of("kube-proxy-replacement", "yes",
            "kube-proxy-replacement: \"yes\" is not a boolean"
                + " (allowed: true|false (legacy: strict, disabled))"),
        Arguments.of("bpf-lb-sock", "enabled",
            "bpf-lb-sock: \"enabled\" is not a boolean (allowed: true|false, or empty: as"
                + " kube-proxy-replacement)"),
        Arguments.of("debug", "on", "debug: \"on\" is not a boolean (allowed: true|false)"),
        Arguments.of("policy-audit-mode", "",
            "policy-audit-mode: \"\" is not a boolean (allowed: true|false)"),
        Arguments.of("node-port-range", "32767-30000",
            "node-port-range: \"32767-30000\" does not have its first port below its last"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "30000-30000",
            "node-port-range: \"30000-30000\" does not have its first port below its last"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "0-32767",
            "node-port-range: \"0-32767\" has a port out of range"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "30000-65536",
            "node-port-range: \"30000-65536\" has a port out of range"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "1024-65535",
            "node-port-range: \"1024-65535\" leaves no port for SNAT: a range that ends at 65535"
                + " must start at 1025 or above (the datapath's SNAT ports are then taken below"
                + " it, never below 1024) (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025"
                + " if b is 65535))"),
        Arguments.of("node-port-range", "30000",
            "node-port-range: \"30000\" is not a port range"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "30000-32767-40000",
            "node-port-range: \"30000-32767-40000\" is not a port range"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("node-port-range", "a-b",
            "node-port-range: \"a-b\" is not a port range"
                + " (allowed: a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535))"),
        Arguments.of("enable-policy", "sometimes",
            "enable-policy: \"sometimes\" is not one of the allowed values"
                + " (allowed: default|always|never)"),
        Arguments.of("log-format", "logfmt",
            "log-format: \"logfmt\" is not one of the allowed values (allowed: text|json)"),
        Arguments.of("policy-action-log", "policy.log",
            "policy-action-log: \"policy.log\" is not an absolute path (allowed: absolute path)"),
        Arguments.of("bpf-root", "",
            "bpf-root: \"\" is empty (allowed: absolute path on a bpffs mount)"),
        Arguments.of("cgroup-root", "sys/fs/cgroup",
            "cgroup-root: \"sys/fs/cgroup\" is not an absolute path"
                + " (allowed: absolute path of a cgroup v2 directory, or empty)"),
        Arguments.of("prometheus-serve-addr", "9962",
            "prometheus-serve-addr: \"9962\" is not a listen address"
                + " (allowed: [host]:port with port 1..65535, or empty to disable)"),
        Arguments.of("prometheus-serve-addr", ":0",
            "prometheus-serve-addr: \":0\" is not a listen address"
                + " (allowed: [host]:port with port 1..65535, or empty to disable)"),
        Arguments.of("health-serve-addr", "::1:9879",
            "health-serve-addr: \"::1:9879\" is not a listen address"
                + " (allowed: [host]:port with port 1..65535)"),
        Arguments.of("health-serve-addr", "",
            "health-serve-addr: \"\" is empty (allowed: [host]:port with port 1..65535)"),
        Arguments.of("enable-host-reachable-services", "maybe",
            "enable-host-reachable-services: \"maybe\" is not a boolean (allowed: true|false, or"
                + " empty: as kube-proxy-replacement)"));
  }

  @ParameterizedTest(name = "{0}: \"{1}\"")
  @MethodSource("invalidValues")
  void invalidValueRejectsTheConfigWithAMessageNamingKeyValueAndAllowed(String key, String raw,
      String message) {
    ConfigResult.Rejected result = rejected(Map.of(key, raw));
    assertThat(result.errors()).extracting(ConfigError::toString).containsExactly(message);
    assertThat(result.source()).isEqualTo(DIR);
  }

  @Test
  void everyErrorOfOneLoadIsReportedAtOnceAndValidKeysDoNotSaveIt() {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("debug", "true");
    data.put("bpf-lb-map-max", "abc");
    data.put("node-port-range", "1-0");
    data.put("enable-policy", "sometimes");
    ConfigResult.Rejected result = rejected(data);
    assertThat(result.errors()).extracting(ConfigError::key)
        .containsExactly("bpf-lb-map-max", "enable-policy", "node-port-range");
  }

  @ParameterizedTest
  @EnumSource(ConfigKey.class)
  void everyDefaultParsesAndIsTheValueOfAnEmptyConfig(ConfigKey key) {
    AgentConfig config = accepted(Map.of());
    assertThat(key.parse(key.defaultValue()).isValid()).isTrue();
    assertThat(config.formattedValue(key)).isEqualTo(key.defaultValue());
    assertThat(config.origin(key)).isEqualTo(ConfigOrigin.defaults());
    assertThat(config).isEqualTo(AgentConfig.defaults());
  }

  @Test
  void defaultsAreCiliums() {
    AgentConfig d = AgentConfig.defaults();
    assertThat(d.kubeProxyReplacement()).isFalse();
    assertThat(d.bpfLbSock()).isEmpty();
    assertThat(d.socketLoadBalancing()).isFalse();
    assertThat(d.bpfLbMapMax()).isEqualTo(65536);
    assertThat(d.bpfCtGlobalTcpMax()).isEqualTo(524288);
    assertThat(d.bpfCtGlobalAnyMax()).isEqualTo(262144);
    assertThat(d.bpfPolicyMapMax()).isEqualTo(16384);
    assertThat(d.nodePortRange()).isEqualTo(new PortRange(30000, 32767));
    assertThat(d.enablePolicy()).isEqualTo(PolicyEnforcementMode.DEFAULT);
    assertThat(d.policyAuditMode()).isFalse();
    assertThat(d.debug()).isFalse();
    assertThat(d.policyActionLog()).isEqualTo(Path.of("/var/log/network/policy_action.log"));
    assertThat(d.logFormat()).isEqualTo(LogFormat.TEXT);
    assertThat(d.prometheusServeAddr()).contains(new ListenAddress("", 9962));
    assertThat(d.healthServeAddr()).isEqualTo(new ListenAddress("", 9879));
    assertThat(d.bpfRoot()).isEqualTo(Path.of("/sys/fs/bpf/anetd"));
    assertThat(d.cgroupRoot()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(ConfigKey.class)
  void eachKeyLandsInItsOwnAccessor(ConfigKey key) {
    // A value that differs from the default for every key: catches miswired record components.
    Map<ConfigKey, String> nonDefault = Map.ofEntries(
        Map.entry(ConfigKey.KUBE_PROXY_REPLACEMENT, "true"),
        Map.entry(ConfigKey.BPF_LB_SOCK, "true"),
        Map.entry(ConfigKey.BPF_LB_MAP_MAX, "1001"),
        Map.entry(ConfigKey.BPF_CT_GLOBAL_TCP_MAX, "2002"),
        Map.entry(ConfigKey.BPF_CT_GLOBAL_ANY_MAX, "3003"),
        Map.entry(ConfigKey.BPF_POLICY_MAP_MAX, "4004"),
        Map.entry(ConfigKey.NODE_PORT_RANGE, "20000-22767"),
        Map.entry(ConfigKey.ENABLE_POLICY, "always"),
        Map.entry(ConfigKey.POLICY_AUDIT_MODE, "true"),
        Map.entry(ConfigKey.DEBUG, "true"),
        Map.entry(ConfigKey.POLICY_ACTION_LOG, "/tmp/p.log"),
        Map.entry(ConfigKey.LOG_FORMAT, "json"),
        Map.entry(ConfigKey.PROMETHEUS_SERVE_ADDR, ":9090"),
        Map.entry(ConfigKey.HEALTH_SERVE_ADDR, ":9880"),
        Map.entry(ConfigKey.BPF_ROOT, "/sys/fs/bpf/other"),
        Map.entry(ConfigKey.CGROUP_ROOT, "/run/anetd/cgroup"),
        Map.entry(ConfigKey.MTU, "1460"));
    assertThat(nonDefault).containsOnlyKeys(ConfigKey.values());
    AgentConfig config = accepted(Map.of(key.configName(), nonDefault.get(key)));
    for (ConfigKey other : ConfigKey.values()) {
      String expected = other == key ? nonDefault.get(key) : other.defaultValue();
      assertThat(config.formattedValue(other)).as(other.configName()).isEqualTo(expected);
    }
  }

  @Test
  void mtuIsZeroForAutoOrAnIpv4UsableSize() {
    assertThat(accepted(Map.of("mtu", "0")).mtu()).isZero();
    assertThat(accepted(Map.of("mtu", "9000")).mtu()).isEqualTo(9000);
    assertThat(ConfigParser.parse(Map.of("mtu", "500"), DIR))
        .isInstanceOf(ConfigResult.Rejected.class);
  }

  @Test
  void legacyKubeProxyReplacementValueIsMappedWithAWarning() {
    ConfigResult.Accepted result =
        (ConfigResult.Accepted) ConfigParser.parse(Map.of("kube-proxy-replacement", "strict"), DIR);
    assertThat(result.config().kubeProxyReplacement()).isTrue();
    assertThat(result.notices()).containsExactly(ConfigNotice.warning("kube-proxy-replacement",
        "legacy value \"strict\" read as \"true\"; write \"true\""));
  }

  @ParameterizedTest(name = "kube-proxy-replacement={0}, bpf-lb-sock={1} -> {2}")
  @CsvSource({"false, '', false", "true, '', true", "true, false, false", "false, true, true",
      "true, true, true"})
  void socketLoadBalancingFollowsKubeProxyReplacementUnlessBpfLbSockIsSet(String kpr,
      String bpfLbSock, boolean expected) {
    AgentConfig config = accepted(Map.of("kube-proxy-replacement", kpr, "bpf-lb-sock",
        bpfLbSock));
    assertThat(config.socketLoadBalancing()).isEqualTo(expected);
  }

  @Test
  void aliasAloneSetsBpfLbSockWithADeprecationWarning() {
    ConfigResult.Accepted result = (ConfigResult.Accepted) ConfigParser.parse(
        Map.of("enable-host-reachable-services", "true"), DIR);
    assertThat(result.config().bpfLbSock()).contains(true);
    assertThat(result.config().origin(ConfigKey.BPF_LB_SOCK)).isEqualTo(DIR);
    assertThat(result.notices()).singleElement().satisfies(n -> {
      assertThat(n.severity()).isEqualTo(ConfigNotice.Severity.WARNING);
      assertThat(n.key()).isEqualTo("enable-host-reachable-services");
      assertThat(n.message()).contains("deprecated alias of bpf-lb-sock");
    });
  }

  @Test
  void aliasAndKeyAgreeingIsAcceptedWithAWarning() {
    ConfigResult.Accepted result = (ConfigResult.Accepted) ConfigParser.parse(
        Map.of("enable-host-reachable-services", "true", "bpf-lb-sock", "True"), DIR);
    assertThat(result.config().bpfLbSock()).contains(true);
    assertThat(result.notices()).extracting(ConfigNotice::key)
        .containsExactly("enable-host-reachable-services");
  }

  @ParameterizedTest(name = "bpf-lb-sock={0}, alias={1}")
  @MethodSource("disagreeingAlias")
  void aliasAndKeyDisagreeingIsRejectedNamingBoth(String key, String alias) {
    ConfigResult.Rejected result = rejected(
        Map.of("bpf-lb-sock", key, "enable-host-reachable-services", alias));
    assertThat(result.errors()).extracting(ConfigError::toString).containsExactly(
        "bpf-lb-sock: \"" + key + "\" conflicts with its deprecated alias"
            + " enable-host-reachable-services: \"" + alias + "\"; remove"
            + " enable-host-reachable-services (allowed: true|false, or empty: as"
            + " kube-proxy-replacement)");
  }

  static Stream<Arguments> disagreeingAlias() {
    return Stream.of(Arguments.of("true", "false"), Arguments.of("false", "1"));
  }

  @Test
  void unknownKeyIsAWarningAndDoesNotRejectAndTyposGetASuggestion() {
    ConfigResult.Accepted result = (ConfigResult.Accepted) ConfigParser.parse(
        Map.of("bpf-lb-map-mx", "1", "frobnicate", "x", "debug", "true"), DIR);
    assertThat(result.config().debug()).isTrue();
    assertThat(result.notices()).containsExactly(
        ConfigNotice.warning("bpf-lb-map-mx", "unknown key, ignored (did you mean bpf-lb-map-max?)"),
        ConfigNotice.warning("frobnicate", "unknown key, ignored"));
  }

  @Test
  void knownIgnoredCiliumKeyIsAnInfoNotAWarning() {
    ConfigResult result = ConfigParser.parse(
        Map.of("cluster-name", "default", "tunnel", "vxlan", "ipam", "kubernetes"), DIR);
    assertThat(result.notices()).hasSize(3)
        .allSatisfy(n -> assertThat(n.severity()).isEqualTo(ConfigNotice.Severity.INFO))
        .extracting(ConfigNotice::key).containsExactly("cluster-name", "ipam", "tunnel");
  }

  @Test
  void flagWinsOverConfigMapAndIsValidatedTheSameWay() {
    ConfigResult.Accepted ok = (ConfigResult.Accepted) ConfigParser.parse(
        Map.of("debug", "false"), DIR, Map.of(ConfigKey.DEBUG, "true"));
    assertThat(ok.config().debug()).isTrue();
    assertThat(ok.config().origin(ConfigKey.DEBUG)).isEqualTo(ConfigOrigin.flag("--debug"));

    ConfigResult.Rejected bad = (ConfigResult.Rejected) ConfigParser.parse(
        Map.of(), DIR, Map.of(ConfigKey.BPF_LB_MAP_MAX, "huge"));
    assertThat(bad.errors()).extracting(ConfigError::toString)
        .containsExactly("--bpf-lb-map-max: \"huge\" is not an integer (allowed: 1..16777216)");
  }

  @Test
  void aCiliumShippedConfigMapIsAcceptedWithOnlyInfosForItsOtherKeys() {
    Map<String, String> cilium = Map.of(
        "identity-allocation-mode", "crd", "debug", "false", "enable-policy", "default",
        "enable-ipv4", "true", "enable-ipv6", "false", "kube-proxy-replacement", "true",
        "bpf-lb-sock", "false", "monitor-aggregation", "medium",
        "bpf-ct-global-tcp-max", "524288", "prometheus-serve-addr", ":9962");
    ConfigResult.Accepted result = (ConfigResult.Accepted) ConfigParser.parse(cilium, DIR);
    assertThat(result.notices()).extracting(ConfigNotice::severity)
        .containsOnly(ConfigNotice.Severity.INFO);
    assertThat(result.config().kubeProxyReplacement()).isTrue();
  }

  @Test
  void longOrMultiLineValuesAreQuotedReadablyInErrors() {
    ConfigResult.Rejected result = rejected(Map.of("debug", "tr\"ue\nfalse"));
    assertThat(result.errors().get(0).toString())
        .isEqualTo("debug: \"tr\\\"ue\\nfalse\" is not a boolean (allowed: true|false)");
    String longValue = "x".repeat(200);
    assertThat(rejected(Map.of("debug", longValue)).errors().get(0).toString())
        .hasSizeLessThan(150).contains("...");
  }

  @Test
  void editDistanceCountsSingleEdits() {
    assertThat(ConfigParser.editDistance("debug", "debug")).isZero();
    assertThat(ConfigParser.editDistance("debgu", "debug")).isEqualTo(2);
    assertThat(ConfigParser.editDistance("bpf-lb-map", "bpf-lb-map-max")).isEqualTo(4);
  }

  @Test
  void keysHaveUniqueNamesAndAliases() {
    List<String> names = Arrays.stream(ConfigKey.values()).map(ConfigKey::configName).toList();
    assertThat(names).doesNotHaveDuplicates();
    for (ConfigKey key : ConfigKey.values()) {
      key.deprecatedAlias().ifPresent(alias -> assertThat(names).doesNotContain(alias));
      assertThat(KnownIgnoredKeys.contains(key.configName())).as(key.configName()).isFalse();
    }
  }

  /**
   * A node-port-range the parser accepts is one the datapath can derive SNAT ports for: the agent
   * starts with it instead of crash-looping; and the parser rejects only ranges that leave none.
   */
  @ParameterizedTest(name = "node-port-range {0}")
  @CsvSource({"30000-32767", "1-65534", "1-2", "60000-61000", "61000-65534", "65534-65535",
      "1025-65535", "1024-65535", "1-65535", "1023-65535", "30000-65535"})
  void nodePortRangeIsAcceptedExactlyWhenTheDatapathHasSnatPortsForIt(String range) {
    boolean accepted = ConfigParser.parse(Map.of("node-port-range", range), DIR)
        instanceof ConfigResult.Accepted;
    String[] ports = range.split("-");
    boolean datapathStarts;
    try {
      org.anetd.agent.datapath.HostSettings.forNodePortRange(Integer.parseInt(ports[0]),
          Integer.parseInt(ports[1]));
      datapathStarts = true;
    } catch (IllegalArgumentException e) {
      datapathStarts = false;
    }
    assertThat(accepted).isEqualTo(datapathStarts);
  }

  /** Nothing in anetd reads it: any value is accepted and the operator is told it is ignored. */
  @Test
  void monitorAggregationIsReportedAsIgnoredWhateverItsValue() {
    ConfigResult result = ConfigParser.parse(Map.of("monitor-aggregation", "max"), DIR);

    assertThat(result).isInstanceOf(ConfigResult.Accepted.class);
    assertThat(result.notices()).singleElement().satisfies(n -> {
      assertThat(n.severity()).isEqualTo(ConfigNotice.Severity.INFO);
      assertThat(n.message()).startsWith("Cilium key not implemented by anetd, ignored");
    });
  }
}
