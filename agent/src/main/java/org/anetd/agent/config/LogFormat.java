package org.anetd.agent.config;

/** {@code log-format}: the agent's own log lines (not the policy action log, which is JSON). */
public enum LogFormat implements ConfigEnum {
  TEXT("text"),
  JSON("json");

  private final String configValue;

  LogFormat(String configValue) {
    this.configValue = configValue;
  }

  @Override
  public String configValue() {
    return configValue;
  }
}
