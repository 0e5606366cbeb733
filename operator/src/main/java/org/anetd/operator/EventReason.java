package org.anetd.operator;

/**
 * The closed vocabulary of Kubernetes Event reasons the operator writes (Flink's
 * {@code EventRecorder.Reason} idea): never free text.
 */
public enum EventReason {
  /** A NetworkLogging failed validation; the last valid spec stays in force. */
  ValidationError,
  /** A valid NetworkLogging spec became the settings in force. */
  SpecApplied,
  /** A cilium-config key the operator knows has a value the agent will reject. */
  InvalidConfigValue
}
