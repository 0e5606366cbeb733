package org.anetd.agent.config;

/** {@code monitor-aggregation}: how much the datapath aggregates trace events before reporting. */
public enum MonitorAggregationLevel implements ConfigEnum {
  NONE("none"),
  LOW("low"),
  MEDIUM("medium"),
  MAXIMUM("maximum");

  private final String configValue;

  MonitorAggregationLevel(String configValue) {
    this.configValue = configValue;
  }

  @Override
  public String configValue() {
    return configValue;
  }
}
