package org.anetd.agent.config;

/** {@code enable-policy}: when endpoints are subject to policy (Cilium's enforcement modes). */
public enum PolicyEnforcementMode implements ConfigEnum {
  /** Allow all until a policy selects the endpoint, then default deny for that direction. */
  DEFAULT("default"),
  /** Default deny for every endpoint, selected or not. */
  ALWAYS("always"),
  /** Policy is not enforced at all. */
  NEVER("never");

  private final String configValue;

  PolicyEnforcementMode(String configValue) {
    this.configValue = configValue;
  }

  @Override
  public String configValue() {
    return configValue;
  }
}
