package org.anetd.agent.config;

/** The kind of value a {@link ConfigKey} takes, as shown in docs and {@code anetd config}. */
public enum ValueType {
  BOOLEAN,
  INTEGER,
  ENUM,
  PORT_RANGE,
  PATH,
  LISTEN_ADDRESS;

  /** Lower-case name for docs and JSON output. */
  public String displayName() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
