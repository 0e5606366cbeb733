package org.anetd.agent.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The agent's configuration: one typed value per {@link ConfigKey}, and for each key where its
 * value came from. Immutable; a new load makes a new instance.
 *
 * @param prometheusServeAddr empty when metrics are disabled ({@code prometheus-serve-addr: ""})
 * @param bpfLbSock empty: as {@code kubeProxyReplacement} ({@code bpf-lb-sock: ""}); see
 *     {@link #socketLoadBalancing()}
 * @param cgroupRoot empty: find the cgroup v2 mount ({@code cgroup-root: ""})
 * @param mtu the pods' interface MTU; 0: the MTU of the node's default-route interface
 * @param origins where each key's value came from; holds every key
 */
public record AgentConfig(
    boolean kubeProxyReplacement,
    Optional<Boolean> bpfLbSock,
    int bpfLbMapMax,
    int bpfCtGlobalTcpMax,
    int bpfCtGlobalAnyMax,
    int bpfPolicyMapMax,
    PortRange nodePortRange,
    PolicyEnforcementMode enablePolicy,
    boolean policyAuditMode,
    boolean debug,
    Path policyActionLog,
    LogFormat logFormat,
    Optional<ListenAddress> prometheusServeAddr,
    ListenAddress healthServeAddr,
    Path bpfRoot,
    Optional<Path> cgroupRoot,
    int mtu,
    Map<ConfigKey, ConfigOrigin> origins) {

  public AgentConfig {
    Objects.requireNonNull(nodePortRange, "nodePortRange");
    Objects.requireNonNull(enablePolicy, "enablePolicy");
    Objects.requireNonNull(policyActionLog, "policyActionLog");
    Objects.requireNonNull(logFormat, "logFormat");
    Objects.requireNonNull(prometheusServeAddr, "prometheusServeAddr");
    Objects.requireNonNull(healthServeAddr, "healthServeAddr");
    Objects.requireNonNull(bpfRoot, "bpfRoot");
    Objects.requireNonNull(cgroupRoot, "cgroupRoot");
    Objects.requireNonNull(bpfLbSock, "bpfLbSock");
    EnumMap<ConfigKey, ConfigOrigin> copy = new EnumMap<>(ConfigKey.class);
    copy.putAll(origins);
    if (copy.size() != ConfigKey.values().length) {
      throw new IllegalArgumentException("origins must name every key, got " + copy.keySet());
    }
    origins = Collections.unmodifiableMap(copy);
  }

  /**
   * Whether TCP is load-balanced at the socket: bpf-lb-sock when it is set, else
   * kube-proxy-replacement (Cilium enables socket load balancing with a full replacement).
   */
  public boolean socketLoadBalancing() {
    return bpfLbSock.orElse(kubeProxyReplacement);
  }

  /** Every key at its default. */
  public static AgentConfig defaults() {
    return ConfigParser.DEFAULTS;
  }

  /** Where {@code key}'s value came from. */
  public ConfigOrigin origin(ConfigKey key) {
    return origins.get(key);
  }

  /** The typed value of {@code key} (Boolean, Integer, PortRange, an enum, Path, ...). */
  public Object value(ConfigKey key) {
    return switch (key) {
      case KUBE_PROXY_REPLACEMENT -> kubeProxyReplacement;
      case BPF_LB_SOCK -> bpfLbSock;
      case BPF_LB_MAP_MAX -> bpfLbMapMax;
      case BPF_CT_GLOBAL_TCP_MAX -> bpfCtGlobalTcpMax;
      case BPF_CT_GLOBAL_ANY_MAX -> bpfCtGlobalAnyMax;
      case BPF_POLICY_MAP_MAX -> bpfPolicyMapMax;
      case NODE_PORT_RANGE -> nodePortRange;
      case ENABLE_POLICY -> enablePolicy;
      case POLICY_AUDIT_MODE -> policyAuditMode;
      case DEBUG -> debug;
      case POLICY_ACTION_LOG -> policyActionLog;
      case LOG_FORMAT -> logFormat;
      case PROMETHEUS_SERVE_ADDR -> prometheusServeAddr;
      case HEALTH_SERVE_ADDR -> healthServeAddr;
      case BPF_ROOT -> bpfRoot;
      case CGROUP_ROOT -> cgroupRoot;
      case MTU -> mtu;
    };
  }

  /** {@code key}'s value spelled as in the ConfigMap, e.g. {@code 30000-32767}. */
  public String formattedValue(ConfigKey key) {
    return ConfigKey.format(value(key));
  }

  /**
   * Builds a config from parsed values. The parser guarantees each value has its key's type, so
   * the casts here cannot fail for values it produced.
   */
  @SuppressWarnings("unchecked")
  static AgentConfig of(Map<ConfigKey, Object> values, Map<ConfigKey, ConfigOrigin> origins) {
    return new AgentConfig(
        (Boolean) values.get(ConfigKey.KUBE_PROXY_REPLACEMENT),
        (Optional<Boolean>) values.get(ConfigKey.BPF_LB_SOCK),
        (Integer) values.get(ConfigKey.BPF_LB_MAP_MAX),
        (Integer) values.get(ConfigKey.BPF_CT_GLOBAL_TCP_MAX),
        (Integer) values.get(ConfigKey.BPF_CT_GLOBAL_ANY_MAX),
        (Integer) values.get(ConfigKey.BPF_POLICY_MAP_MAX),
        (PortRange) values.get(ConfigKey.NODE_PORT_RANGE),
        (PolicyEnforcementMode) values.get(ConfigKey.ENABLE_POLICY),
        (Boolean) values.get(ConfigKey.POLICY_AUDIT_MODE),
        (Boolean) values.get(ConfigKey.DEBUG),
        (Path) values.get(ConfigKey.POLICY_ACTION_LOG),
        (LogFormat) values.get(ConfigKey.LOG_FORMAT),
        (Optional<ListenAddress>) values.get(ConfigKey.PROMETHEUS_SERVE_ADDR),
        (ListenAddress) values.get(ConfigKey.HEALTH_SERVE_ADDR),
        (Path) values.get(ConfigKey.BPF_ROOT),
        (Optional<Path>) values.get(ConfigKey.CGROUP_ROOT),
        (Integer) values.get(ConfigKey.MTU),
        origins);
  }
}
