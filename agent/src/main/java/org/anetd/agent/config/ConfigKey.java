package org.anetd.agent.config;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.anetd.agent.config.ValueParsers.ValueParser;

/**
 * Every cilium-config key anetd reads: its name in the ConfigMap, its type, its default (Cilium's
 * where Cilium has the key), what is allowed and what it does. This is the single list that the
 * parser, {@code anetd config} and docs/configuration.md (checked by a test) all follow.
 */
public enum ConfigKey {
  KUBE_PROXY_REPLACEMENT("kube-proxy-replacement", ValueType.BOOLEAN, "false",
      "true|false (legacy: strict, disabled)", ValueParsers.kubeProxyReplacement(),
      "Serve ClusterIP, NodePort, LoadBalancer and ExternalIP Services from eBPF instead of"
          + " kube-proxy.",
      "Cilium >= 1.14 spelling. The legacy strict and disabled are read as true and false with"
          + " a warning; partial and probe are rejected."),

  BPF_LB_SOCK("bpf-lb-sock", ValueType.BOOLEAN, "", "true|false, or empty: as"
      + " kube-proxy-replacement", ValueParsers.optionalBool(),
      "Load-balance at the socket (cgroup connect4/sendmsg4/recvmsg4/getpeername4/sock_release"
          + " on cgroup-root, and connect6/recvmsg6/getpeername6 for AF_INET6 sockets naming IPv4"
          + " peers v4-mapped, as JVMs do): a connect() to a service goes straight to a backend, with no"
          + " per-packet NAT. Pods: TCP without session affinity; their UDP and affinity stay"
          + " per packet at the pod veth. Host processes (kubelet, hostNetwork pods), which have"
          + " no pod veth: TCP and UDP, affinity, the node's own NodePorts, and refusal of"
          + " services without endpoints. Unset: on exactly when kube-proxy-replacement is"
          + " true.",
      "Cilium turns socket load balancing on with kube-proxy-replacement true whatever"
          + " bpf-lb-sock says; anetd does the same unless bpf-lb-sock is set, and an explicit"
          + " false keeps it off. The deprecated alias enable-host-reachable-services is read"
          + " with a warning; both set and disagreeing is rejected.",
      "enable-host-reachable-services"),

  BPF_LB_MAP_MAX("bpf-lb-map-max", ValueType.INTEGER, "65536", "1..16777216",
      ValueParsers.intInRange(1, 1 << 24),
      "Maximum entries of the service, backend and reverse-NAT maps.",
      "Same default as Cilium. Values above 262144 are accepted."),

  BPF_CT_GLOBAL_TCP_MAX("bpf-ct-global-tcp-max", ValueType.INTEGER, "524288", "1024..16777216",
      ValueParsers.intInRange(1 << 10, 1 << 24),
      "Maximum entries of the TCP connection-tracking map.",
      "Same default and range as Cilium. anetd does not size it dynamically"
          + " (bpf-map-dynamic-size-ratio is ignored)."),

  BPF_CT_GLOBAL_ANY_MAX("bpf-ct-global-any-max", ValueType.INTEGER, "262144", "1024..16777216",
      ValueParsers.intInRange(1 << 10, 1 << 24),
      "Maximum entries of the non-TCP (UDP, ICMP) connection-tracking map.",
      "Same default and range as Cilium."),

  BPF_POLICY_MAP_MAX("bpf-policy-map-max", ValueType.INTEGER, "16384", "256..65536",
      ValueParsers.intInRange(1 << 8, 1 << 16),
      "Maximum entries of the node's policy map, which holds the allow entries of every endpoint"
          + " of the node (endpoint, peer identity, direction, protocol, port).",
      "Same default and range as Cilium (PolicyMapMin 256, PolicyMapMax 65536), but Cilium has"
          + " one map per endpoint: anetd's one map holds the entries of all the node's"
          + " endpoints. Like the other sizes, a changed value applies at the next start, which"
          + " resizes the pinned map with its entries."),

  NODE_PORT_RANGE("node-port-range", ValueType.PORT_RANGE, "30000-32767",
      "a-b or a,b with 1 <= a < b <= 65535 (a >= 1025 if b is 65535)", ValueParsers.nodePortRange(),
      "Ports that NodePort Services are allocated from; must match the API server's"
          + " --service-node-port-range.",
      "Cilium spells it a,b; both spellings are accepted. The datapath's SNAT ports (61000-65535)"
          + " move above a range that reaches into them, or below one that ends at 65535, never"
          + " under 1024: a range ending at 65535 that starts at 1024 or lower is rejected."),

  ENABLE_POLICY("enable-policy", ValueType.ENUM, "default", "default|always|never",
      ValueParsers.oneOf(PolicyEnforcementMode.class),
      "Policy enforcement mode: default denies only endpoints a policy selects; always denies"
          + " all; never enforces nothing.",
      "Same as Cilium."),

  POLICY_AUDIT_MODE("policy-audit-mode", ValueType.BOOLEAN, "false", "true|false",
      ValueParsers.bool(),
      "Log policy denials but let the packets through.",
      "Same as Cilium."),

  DEBUG("debug", ValueType.BOOLEAN, "false", "true|false", ValueParsers.bool(),
      "Debug-level agent logging.",
      "Same as Cilium."),


  POLICY_ACTION_LOG("policy-action-log", ValueType.PATH, "/var/log/network/policy_action.log",
      "absolute path", ValueParsers.absolutePath(),
      "File the policy action log (one JSON line per logged connection) is written to.",
      "anetd only; the GKE Dataplane V2 location."),

  LOG_FORMAT("log-format", ValueType.ENUM, "text", "text|json",
      ValueParsers.oneOf(LogFormat.class),
      "Format of the agent's own log lines.",
      "anetd only; Cilium sets this through log-driver/log-opt, which anetd ignores."),

  PROMETHEUS_SERVE_ADDR("prometheus-serve-addr", ValueType.LISTEN_ADDRESS, ":9962",
      "[host]:port with port 1..65535, or empty to disable", ValueParsers.listenAddress(true),
      "Address of the Prometheus metrics endpoint. If it cannot be bound (an address not on this"
          + " node, a port taken), the agent logs an error and runs without metrics; anetd status"
          + " says so.",
      "Same as Cilium's Helm chart (the bare cilium-agent flag defaults to empty, disabled)."),

  HEALTH_SERVE_ADDR("health-serve-addr", ValueType.LISTEN_ADDRESS, ":9879",
      "[host]:port with port 1..65535", ValueParsers.listenAddress(false),
      "Address of the liveness and readiness HTTP endpoint.",
      "anetd only; replaces Cilium's agent-health-port (same port, 9879), which is ignored."),

  BPF_ROOT("bpf-root", ValueType.PATH, "/sys/fs/bpf/anetd", "absolute path on a bpffs mount",
      ValueParsers.absolutePath(),
      "Directory where anetd pins its eBPF maps; pinned maps survive agent restarts.",
      "Different meaning: in Cilium this is the bpffs mount point (default /sys/fs/bpf), here"
          + " the pin directory under it."),

  CGROUP_ROOT("cgroup-root", ValueType.PATH, "", "absolute path of a cgroup v2 directory, or"
      + " empty", ValueParsers.optionalAbsolutePath(),
      "Where bpf-lb-sock links its programs: the node's cgroup v2 root. Empty: the first cgroup2"
          + " mount the agent sees. A directory holding the hierarchy under unified/ (hybrid"
          + " hosts) is followed there.",
      "Same meaning as Cilium's; Cilium's default /run/cilium/cgroupv2 is a mount it makes"
          + " itself, anetd's DaemonSet mounts the host's /sys/fs/cgroup at /run/anetd/cgroup."),

  MTU("mtu", ValueType.INTEGER, "0", "0 (auto) or 576..65535", ValueParsers.mtu(),
      "MTU of the pods' interfaces (both ends of each pod veth), set when a pod is wired. 0: the"
          + " MTU of the node's interface that carries the default route, as found at the agent's"
          + " start (1500 without one). A change applies at the next agent restart, to pods"
          + " wired after it; a pod keeps the MTU it was wired with.",
      "Same key and default as Cilium (0 = auto-detect from the node's devices).");

  private static final Map<String, ConfigKey> BY_NAME = Arrays.stream(values())
      .collect(Collectors.toUnmodifiableMap(ConfigKey::configName, Function.identity()));
  private static final Map<String, ConfigKey> BY_ALIAS = Arrays.stream(values())
      .filter(k -> k.deprecatedAlias != null)
      .collect(Collectors.toUnmodifiableMap(k -> k.deprecatedAlias, Function.identity()));

  private final String configName;
  private final ValueType type;
  private final String defaultValue;
  private final String allowed;
  private final ValueParser parser;
  private final String description;
  private final String compatibility;
  private final String deprecatedAlias;

  ConfigKey(String configName, ValueType type, String defaultValue, String allowed,
      ValueParser parser, String description, String compatibility) {
    this(configName, type, defaultValue, allowed, parser, description, compatibility, null);
  }

  ConfigKey(String configName, ValueType type, String defaultValue, String allowed,
      ValueParser parser, String description, String compatibility, String deprecatedAlias) {
    this.configName = configName;
    this.type = type;
    this.defaultValue = defaultValue;
    this.allowed = allowed;
    this.parser = parser;
    this.description = description;
    this.compatibility = compatibility;
    this.deprecatedAlias = deprecatedAlias;
  }

  /** The key as written in the cilium-config ConfigMap, e.g. {@code bpf-lb-map-max}. */
  public String configName() {
    return configName;
  }

  public ValueType type() {
    return type;
  }

  /** The default, spelled as in the ConfigMap (Cilium's default where Cilium has the key). */
  public String defaultValue() {
    return defaultValue;
  }

  /** What the key accepts, as shown in error messages: {@code 1..16777216}, {@code a|b}. */
  public String allowed() {
    return allowed;
  }

  public String description() {
    return description;
  }

  /** How this key relates to Cilium's key of the same name. */
  public String compatibility() {
    return compatibility;
  }

  /** An older name Cilium still reads for this key, e.g. enable-host-reachable-services. */
  public Optional<String> deprecatedAlias() {
    return Optional.ofNullable(deprecatedAlias);
  }

  public static Optional<ConfigKey> byName(String configName) {
    return Optional.ofNullable(BY_NAME.get(configName));
  }

  static Optional<ConfigKey> byAlias(String alias) {
    return Optional.ofNullable(BY_ALIAS.get(alias));
  }

  ParsedValue parse(String raw) {
    return parser.parse(raw);
  }

  /** A typed value spelled back as it would be written in the ConfigMap. */
  public static String format(Object value) {
    if (value instanceof Optional<?> optional) {
      return optional.map(ConfigKey::format).orElse("");
    }
    if (value instanceof ConfigEnum e) {
      return e.configValue();
    }
    if (value instanceof Path p) {
      return p.toString();
    }
    return String.valueOf(value);
  }
}
