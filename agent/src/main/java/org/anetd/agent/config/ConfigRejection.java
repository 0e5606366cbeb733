package org.anetd.agent.config;

import java.time.Instant;
import java.util.List;

/** A load that was rejected: when, from where, and every error. Kept for status and metrics. */
public record ConfigRejection(Instant at, ConfigOrigin source, List<ConfigError> errors) {
  public ConfigRejection {
    errors = List.copyOf(errors);
  }
}
