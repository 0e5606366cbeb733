package org.anetd.agent.config;

/**
 * One invalid value: which key, the value as written, what is wrong and what is allowed. Its
 * {@link #toString()} is the message operators see, e.g.
 * {@code bpf-lb-map-max: "abc" is not an integer (allowed: 1..16777216)}.
 */
public record ConfigError(String key, String value, String problem, String allowed) {
  @Override
  public String toString() {
    return key + ": " + quote(value) + " " + problem + " (allowed: " + allowed + ")";
  }

  /** Quotes a value for a message: escapes quotes and line breaks, shortens long values. */
  static String quote(String value) {
    String v = value.length() > 80 ? value.substring(0, 77) + "..." : value;
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
        .replace("\r", "\\r").replace("\t", "\\t") + "\"";
  }
}
