package org.anetd.agent.config;

/**
 * Something worth telling the operator about a config that is still accepted: an unknown key
 * (warning), a deprecated alias or legacy value (warning), a Cilium key anetd ignores (info).
 */
public record ConfigNotice(Severity severity, String key, String message) {
  public enum Severity {
    INFO,
    WARNING
  }

  static ConfigNotice info(String key, String message) {
    return new ConfigNotice(Severity.INFO, key, message);
  }

  static ConfigNotice warning(String key, String message) {
    return new ConfigNotice(Severity.WARNING, key, message);
  }

  @Override
  public String toString() {
    return severity.name().toLowerCase(java.util.Locale.ROOT) + ": " + key + ": " + message;
  }
}
