package org.anetd.agent.config;

import java.util.Objects;

/**
 * Where a value (or a whole load) came from: the built-in default, a ConfigMap (named by its
 * mounted directory or as {@code kube-system/cilium-config}), or a command-line flag.
 */
public record ConfigOrigin(Kind kind, String source) {
  /** The ConfigMap anetd reads, as Cilium's agent does. */
  public static final String CILIUM_CONFIG = "kube-system/cilium-config";

  public enum Kind {
    DEFAULT,
    CONFIGMAP,
    FLAG
  }

  private static final ConfigOrigin DEFAULT = new ConfigOrigin(Kind.DEFAULT, "");

  public ConfigOrigin {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(source, "source");
  }

  public static ConfigOrigin defaults() {
    return DEFAULT;
  }

  /** A ConfigMap read from {@code source}: a mounted directory or {@code namespace/name}. */
  public static ConfigOrigin configMap(String source) {
    return new ConfigOrigin(Kind.CONFIGMAP, source);
  }

  /** A command-line flag, e.g. {@code --debug}. */
  public static ConfigOrigin flag(String flag) {
    return new ConfigOrigin(Kind.FLAG, flag);
  }

  /** {@code default}, {@code configmap /etc/config}, {@code flag --debug}. */
  @Override
  public String toString() {
    String k = kind.name().toLowerCase(java.util.Locale.ROOT);
    return source.isEmpty() ? k : k + " " + source;
  }
}
