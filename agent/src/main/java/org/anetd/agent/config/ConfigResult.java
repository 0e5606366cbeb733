package org.anetd.agent.config;

import java.util.List;
import java.util.Objects;

/** The outcome of parsing one load of cilium-config: a new config, or why there is none. */
public sealed interface ConfigResult permits ConfigResult.Accepted, ConfigResult.Rejected {

  /** Where this load came from (a directory, the ConfigMap, or defaults only). */
  ConfigOrigin source();

  /** Warnings and infos; present whether the config was accepted or not. */
  List<ConfigNotice> notices();

  /** Every value was valid: {@code config} may replace the one in force. */
  record Accepted(ConfigOrigin source, AgentConfig config, List<ConfigNotice> notices)
      implements ConfigResult {
    public Accepted {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(config, "config");
      notices = List.copyOf(notices);
    }
  }

  /** At least one value was invalid: the whole load is rejected, all errors listed at once. */
  record Rejected(ConfigOrigin source, List<ConfigError> errors, List<ConfigNotice> notices)
      implements ConfigResult {
    public Rejected {
      Objects.requireNonNull(source, "source");
      errors = List.copyOf(errors);
      notices = List.copyOf(notices);
      if (errors.isEmpty()) {
        throw new IllegalArgumentException("a rejected config has at least one error");
      }
    }
  }
}
