package org.anetd.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CiliumConfigCheckTest {
  private final CiliumConfigCheck check = new CiliumConfigCheck();

  static Stream<Arguments> values() {
    return Stream.of(
        // key, value, expected message or null
        Arguments.of("kube-proxy-replacement", "true", null),
        Arguments.of("kube-proxy-replacement", "false", null),
        Arguments.of("kube-proxy-replacement", "True", null),
        Arguments.of("kube-proxy-replacement", "strict", null),
        Arguments.of("kube-proxy-replacement", "disabled", null),
        Arguments.of("kube-proxy-replacement", "partial",
            "is a legacy Cilium mode anetd does not support: set true or false"),
        Arguments.of("kube-proxy-replacement", "yes", "must be true or false"),
        Arguments.of("bpf-lb-map-max", "65536", null),
        Arguments.of("bpf-lb-map-max", "0", "must be an integer from 1 to 16777216"),
        Arguments.of("bpf-lb-map-max", "20000000", "must be an integer from 1 to 16777216"),
        Arguments.of("bpf-lb-map-max", "64k", "must be an integer from 1 to 16777216"),
        Arguments.of("node-port-range", "30000-32767", null),
        Arguments.of("node-port-range", "30000,32767", null),
        Arguments.of("node-port-range", "32767-30000", "the low port must be below the high port"),
        Arguments.of("node-port-range", "30000-30000", "the low port must be below the high port"),
        Arguments.of("node-port-range", "0-100", "ports must be between 1 and 65535"),
        Arguments.of("node-port-range", "1024-65535",
            "leaves no port for SNAT: a range ending at 65535 must start above 1024"),
        Arguments.of("node-port-range", "1025-65535", null),
        Arguments.of("node-port-range", "30000", "must be a port range such as 30000-32767"),
        Arguments.of("node-port-range", "a-b", "must be a port range such as 30000-32767"),
        Arguments.of("enable-policy", "default", null),
        Arguments.of("enable-policy", "Always", null),
        Arguments.of("enable-policy", "never", null),
        Arguments.of("enable-policy", "sometimes", "must be one of always, default, never"),
        Arguments.of("debug", "false", null),
        Arguments.of("debug", "1", null),
        Arguments.of("debug", "yes", "must be true or false"));
  }

  @ParameterizedTest(name = "{0}={1} -> {2}")
  @MethodSource("values")
  void knownKeysAreChecked(String key, String value, String expected) {
    List<CiliumConfigCheck.ConfigProblem> problems = check.check(Map.of(key, value));

    if (expected == null) {
      assertThat(problems).isEmpty();
    } else {
      assertThat(problems).containsExactly(new CiliumConfigCheck.ConfigProblem(key, value, expected));
    }
  }

  @Test
  void unknownKeysAreLeftToTheAgent() {
    assertThat(check.check(Map.of("bpf-ct-global-tcp-max", "not-a-number", "x-y", "z"))).isEmpty();
    assertThat(check.check(null)).isEmpty();
  }

  @Test
  void everyProblemIsReportedInKeyOrder() {
    assertThat(check.check(Map.of("debug", "on", "bpf-lb-map-max", "-1", "enable-policy", "never")))
        .extracting(CiliumConfigCheck.ConfigProblem::key)
        .containsExactly("bpf-lb-map-max", "debug");
  }
}
