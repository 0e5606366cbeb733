package org.anetd.agent.config;

import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Pure parsers for each {@link ValueType}. Each returns a value or a problem, never throws. */
final class ValueParsers {
  private ValueParsers() {}

  /** A parser of one raw (already trimmed) value. */
  @FunctionalInterface
  interface ValueParser {
    ParsedValue parse(String raw);
  }

  // Go's strconv.ParseBool, which Cilium (viper) uses for its boolean keys: accepting the same
  // spellings means a cilium-config that Cilium accepts is accepted here too.
  private static final Set<String> TRUE = Set.of("true", "True", "TRUE", "t", "T", "1");
  private static final Set<String> FALSE = Set.of("false", "False", "FALSE", "f", "F", "0");

  private static final Pattern DECIMAL = Pattern.compile("[+-]?[0-9]+");

  static ValueParser bool() {
    return raw -> {
      if (TRUE.contains(raw)) {
        return ParsedValue.of(Boolean.TRUE);
      }
      if (FALSE.contains(raw)) {
        return ParsedValue.of(Boolean.FALSE);
      }
      return ParsedValue.invalid("is not a boolean");
    };
  }

  /** true, false, or empty (Optional.empty(): decided by another key). */
  static ValueParser optionalBool() {
    return optional(bool());
  }

  /** Empty: Optional.empty(); anything else as {@code inner} parses it, wrapped in an Optional. */
  private static ValueParser optional(ValueParser inner) {
    return raw -> {
      if (raw.isEmpty()) {
        return ParsedValue.of(Optional.empty());
      }
      ParsedValue p = inner.parse(raw);
      return p.problem() != null ? p : ParsedValue.of(Optional.of(p.value()));
    };
  }

  /** mtu: 0 (auto) or an MTU an IPv4 host must be able to use (576, RFC 791) up to 65535. */
  static ValueParser mtu() {
    ValueParser range = intInRange(0, 65535);
    return raw -> {
      ParsedValue p = range.parse(raw);
      if (p.isValid() && (Integer) p.value() != 0 && (Integer) p.value() < 576) {
        return ParsedValue.invalid("is below 576, the least an IPv4 host must accept");
      }
      return p;
    };
  }

  static ValueParser intInRange(int min, int max) {
    return raw -> {
      if (!DECIMAL.matcher(raw).matches()) {
        return ParsedValue.invalid("is not an integer");
      }
      // BigInteger so that "99999999999" reads as out of range rather than "not an integer".
      BigInteger n = new BigInteger(raw);
      if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
        return ParsedValue.invalid("is out of range");
      }
      return ParsedValue.of(n.intValueExact());
    };
  }

  static <E extends Enum<E> & ConfigEnum> ValueParser oneOf(Class<E> type) {
    return raw -> {
      // Cilium lower-cases these before comparing; so do we.
      String lower = raw.toLowerCase(java.util.Locale.ROOT);
      return Arrays.stream(type.getEnumConstants())
          .filter(e -> e.configValue().equals(lower))
          .findFirst()
          .map(ParsedValue::of)
          .orElseGet(() -> ParsedValue.invalid("is not one of the allowed values"));
    };
  }

  /**
   * kube-proxy-replacement: true|false, plus the spellings of Cilium before 1.14. {@code strict}
   * meant full replacement and {@code disabled} none; {@code partial} and {@code probe} enabled a
   * hand-picked subset of features, which anetd does not offer, so guessing either way would
   * silently change which Services work: reject instead.
   */
  static ValueParser kubeProxyReplacement() {
    ValueParser bool = bool();
    return raw -> {
      String lower = raw.toLowerCase(java.util.Locale.ROOT);
      switch (lower) {
        case "strict":
          return ParsedValue.withNote(Boolean.TRUE,
              "legacy value \"strict\" read as \"true\"; write \"true\"");
        case "disabled":
          return ParsedValue.withNote(Boolean.FALSE,
              "legacy value \"disabled\" read as \"false\"; write \"false\"");
        case "partial":
        case "probe":
          return ParsedValue.invalid("is a legacy Cilium mode that anetd does not support"
              + " (it replaces kube-proxy fully or not at all): set \"true\" or \"false\"");
        default:
          ParsedValue parsed = bool.parse(raw);
          return parsed.isValid() ? parsed : ParsedValue.invalid("is not a boolean");
      }
    };
  }

  /** node-port-range: {@code a-b} or {@code a,b} (Cilium's string-slice spelling). */
  /**
   * The lowest SNAT port the datapath takes. Its SNAT ports go above node-port-range, or below it
   * when node-port-range ends at 65535, never under this port: the rule of
   * datapath.HostSettings#forNodePortRange, which fails the agent's start on a range that leaves
   * none (ConfigParserTest checks the two agree).
   */
  static final int SNAT_PORT_FLOOR = 1024;

  static ValueParser nodePortRange() {
    return raw -> {
      String[] parts = raw.split("[-,]", -1);
      if (parts.length != 2) {
        return ParsedValue.invalid("is not a port range");
      }
      String a = parts[0].trim();
      String b = parts[1].trim();
      if (!DECIMAL.matcher(a).matches() || !DECIMAL.matcher(b).matches()
          || a.length() > 5 || b.length() > 5) {
        return ParsedValue.invalid("is not a port range");
      }
      int first = Integer.parseInt(a);
      int last = Integer.parseInt(b);
      if (first < 1 || last > PortRange.MAX_PORT) {
        return ParsedValue.invalid("has a port out of range");
      }
      if (first >= last) {
        return ParsedValue.invalid("does not have its first port below its last");
      }
      if (last == PortRange.MAX_PORT && first <= SNAT_PORT_FLOOR) {
        return ParsedValue.invalid("leaves no port for SNAT: a range that ends at 65535 must"
            + " start at " + (SNAT_PORT_FLOOR + 1) + " or above (the datapath's SNAT ports are"
            + " then taken below it, never below " + SNAT_PORT_FLOOR + ")");
      }
      return ParsedValue.of(new PortRange(first, last));
    };
  }

  /** An absolute path, or empty (Optional.empty(): the agent's own choice). */
  static ValueParser optionalAbsolutePath() {
    return optional(absolutePath());
  }

  static ValueParser absolutePath() {
    return raw -> {
      if (raw.isEmpty()) {
        return ParsedValue.invalid("is empty");
      }
      try {
        Path p = Path.of(raw);
        return p.isAbsolute()
            ? ParsedValue.of(p.normalize())
            : ParsedValue.invalid("is not an absolute path");
      } catch (InvalidPathException e) {
        return ParsedValue.invalid("is not a valid path");
      }
    };
  }

  /** {@code [host]:port}; when {@code emptyDisables}, "" gives {@code Optional.empty()}. */
  static ValueParser listenAddress(boolean emptyDisables) {
    return raw -> {
      if (raw.isEmpty()) {
        return emptyDisables
            ? ParsedValue.of(Optional.empty())
            : ParsedValue.invalid("is empty");
      }
      Optional<ListenAddress> address = parseListenAddress(raw);
      if (address.isEmpty()) {
        return ParsedValue.invalid("is not a listen address");
      }
      return ParsedValue.of(emptyDisables ? address : address.get());
    };
  }

  private static Optional<ListenAddress> parseListenAddress(String raw) {
    int colon = raw.lastIndexOf(':');
    if (colon < 0) {
      return Optional.empty();
    }
    String host = raw.substring(0, colon);
    String port = raw.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      return Optional.empty(); // an IPv6 host needs brackets, as in Go's net.SplitHostPort
    }
    if (host.contains("[") || host.contains("]") || host.contains(" ")
        || !port.matches("[0-9]{1,5}")) {
      return Optional.empty();
    }
    int p = Integer.parseInt(port);
    if (p < 1 || p > PortRange.MAX_PORT) {
      return Optional.empty();
    }
    return Optional.of(new ListenAddress(host, p));
  }
}
