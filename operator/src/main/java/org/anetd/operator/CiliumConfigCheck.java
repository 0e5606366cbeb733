package org.anetd.operator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Advisory checks of a few cilium-config values, so that a bad edit shows up as an Event on the
 * ConfigMap as soon as it is made. The agent's own parser is the authority (it knows every key and
 * keeps its last good config); this list is deliberately short, and keys it does not know are not
 * reported.
 */
public final class CiliumConfigCheck {
  /** One problem with one key. */
  public record ConfigProblem(String key, String value, String message) {
    @Override
    public String toString() {
      return key + ": \"" + value + "\": " + message;
    }
  }

  /** The spellings of a boolean the agent accepts (Go's strconv.ParseBool, as Cilium). */
  private static final Set<String> BOOLEANS = Set.of("true", "True", "TRUE", "t", "T", "1",
      "false", "False", "FALSE", "f", "F", "0");

  // Each check accepts exactly what the agent's parser (agent config.ValueParsers) accepts.
  private static final Map<String, Function<String, Optional<String>>> CHECKS = new TreeMap<>(Map.of(
      "kube-proxy-replacement", CiliumConfigCheck::kubeProxyReplacement,
      "bpf-lb-map-max", v -> intInRange(v, 1, 16_777_216),
      "node-port-range", CiliumConfigCheck::portRange,
      "enable-policy", v -> oneOf(v.toLowerCase(Locale.ROOT), Set.of("default", "always", "never")),
      "debug", CiliumConfigCheck::bool));

  /** The keys this check knows. */
  public static Set<String> knownKeys() {
    return CHECKS.keySet();
  }

  /** Problems with the known keys of this data, in key order; unknown keys are not looked at. */
  public List<ConfigProblem> check(Map<String, String> data) {
    List<ConfigProblem> problems = new ArrayList<>();
    if (data == null) {
      return problems;
    }
    CHECKS.forEach((key, check) -> {
      if (data.containsKey(key)) {
        String value = data.get(key);
        check.apply(value == null ? "" : value.trim())
            .ifPresent(m -> problems.add(new ConfigProblem(key, value, m)));
      }
    });
    return problems;
  }

  static Optional<String> oneOf(String v, Set<String> allowed) {
    return allowed.contains(v)
        ? Optional.empty()
        : Optional.of("must be one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
  }

  static Optional<String> bool(String v) {
    return BOOLEANS.contains(v) ? Optional.empty() : Optional.of("must be true or false");
  }

  /** true or false; Cilium's legacy strict / disabled are read as such by the agent. */
  static Optional<String> kubeProxyReplacement(String v) {
    String lower = v.toLowerCase(Locale.ROOT);
    if (lower.equals("partial") || lower.equals("probe")) {
      return Optional.of("is a legacy Cilium mode anetd does not support: set true or false");
    }
    return lower.equals("strict") || lower.equals("disabled") ? Optional.empty() : bool(v);
  }

  static Optional<String> intInRange(String v, int min, int max) {
    String problem = "must be an integer from " + min + " to " + max;
    try {
      long n = Long.parseLong(v);
      return n >= min && n <= max ? Optional.empty() : Optional.of(problem);
    } catch (NumberFormatException e) {
      return Optional.of(problem);
    }
  }

  /** "lo-hi" (Kubernetes' form) or "lo,hi" (Cilium's), 1 <= lo < hi <= 65535. */
  static Optional<String> portRange(String v) {
    String[] parts = v.split("[-,]", -1);
    if (parts.length != 2) {
      return Optional.of("must be a port range such as 30000-32767");
    }
    try {
      int lo = Integer.parseInt(parts[0].trim());
      int hi = Integer.parseInt(parts[1].trim());
      if (lo < 1 || hi > 65535) {
        return Optional.of("ports must be between 1 and 65535");
      }
      if (lo >= hi) {
        return Optional.of("the low port must be below the high port");
      }
      if (hi == 65535 && lo <= 1024) {
        // the datapath's SNAT ports then go below the range, never below 1024
        return Optional.of("leaves no port for SNAT: a range ending at 65535 must start above 1024");
      }
      return Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.of("must be a port range such as 30000-32767");
    }
  }
}
