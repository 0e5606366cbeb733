package org.anetd.agent.config;

import java.util.Optional;

/**
 * The outcome of parsing one raw value: a typed value (possibly with a note, e.g. a legacy
 * spelling that was mapped), or the problem with it. The problem text completes the sentence
 * {@code key: "value" <problem> (allowed: ...)}.
 */
record ParsedValue(Object value, String problem, String note) {
  static ParsedValue of(Object value) {
    return new ParsedValue(value, null, null);
  }

  static ParsedValue withNote(Object value, String note) {
    return new ParsedValue(value, null, note);
  }

  static ParsedValue invalid(String problem) {
    return new ParsedValue(null, problem, null);
  }

  boolean isValid() {
    return problem == null;
  }

  Optional<String> noteIfAny() {
    return Optional.ofNullable(note);
  }
}
