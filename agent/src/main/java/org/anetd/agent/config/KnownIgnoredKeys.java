package org.anetd.agent.config;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keys that Cilium's own cilium-config ships and anetd does not implement. They are reported once
 * as information, not as unknown-key warnings: a ConfigMap written for Cilium is normal here, and
 * a warning for every one of its keys would bury real typos.
 */
public final class KnownIgnoredKeys {
  private KnownIgnoredKeys() {}

  // key -> why anetd ignores it (shown in the notice and in docs/configuration.md).
  private static final Map<String, String> KEYS = new TreeMap<>(Map.ofEntries(
      Map.entry("cluster-name", "anetd serves a single cluster"),
      Map.entry("cluster-id", "anetd serves a single cluster"),
      Map.entry("ipam", "anetd always uses its own node-local IPAM"),
      Map.entry("tunnel", "anetd routes natively, without a tunnel"),
      Map.entry("routing-mode", "anetd routes natively, without a tunnel"),
      Map.entry("enable-ipv4", "anetd is IPv4 only, always on"),
      Map.entry("enable-ipv6", "anetd is IPv4 only"),
      Map.entry("identity-allocation-mode", "identities are node-local, no CRD or kvstore"),
      Map.entry("agent-health-port", "use health-serve-addr"),
      Map.entry("bpf-map-dynamic-size-ratio", "map sizes are always the configured values"),
      Map.entry("enable-hubble", "anetd has no Hubble; see the policy action log"),
      Map.entry("install-iptables-rules", "anetd installs no iptables rules"),
      Map.entry("monitor-aggregation",
          "anetd has no trace event monitor; policy verdicts go to the policy action log")));

  /** Whether {@code configName} is a Cilium key that anetd knowingly ignores. */
  public static boolean contains(String configName) {
    return KEYS.containsKey(configName);
  }

  /** Why anetd ignores the key, if it is one of them. */
  public static Optional<String> reason(String configName) {
    return Optional.ofNullable(KEYS.get(configName));
  }

  /** All of them, sorted, with their reasons. */
  public static Map<String, String> all() {
    return java.util.Collections.unmodifiableMap(KEYS);
  }
}
