package org.anetd.agent.config;

/** An enum whose constants are spelled in cilium-config as {@link #configValue()}. */
public interface ConfigEnum {
  String configValue();
}
