package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A validated Kubernetes label selector: matchLabels AND every matchExpression. The empty
 * selector matches everything (as in the API); absence of a selector is the caller's business.
 */
public record Selector(SortedMap<String, String> matchLabels, List<Requirement> expressions) {
  public static final Selector ALL = new Selector(new TreeMap<>(), List.of());

  private static final Pattern NAME = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** One matchExpression; {@code values} is empty for Exists / DoesNotExist. */
  public record Requirement(String key, Operator operator, SortedSet<String> values) {
    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (operator) {
        case In -> v != null && values.contains(v);
        case NotIn -> v == null || !values.contains(v); // a missing key satisfies NotIn
        case Exists -> v != null;
        case DoesNotExist -> v == null;
      };
    }
  }

  public enum Operator { In, NotIn, Exists, DoesNotExist }

  public Selector {
    matchLabels = new TreeMap<>(matchLabels);
    expressions = List.copyOf(expressions);
  }

  public boolean matches(Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    return matchLabels.entrySet().stream().allMatch(e -> e.getValue().equals(l.get(e.getKey())))
        && expressions.stream().allMatch(r -> r.matches(l));
  }

  /** Why {@code s} is not a valid selector, if it is not (the API server would reject it). */
  public static Optional<String> check(LabelSelector s) {
    if (s == null) {
      return Optional.empty();
    }
    if (s.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : s.getMatchLabels().entrySet()) {
        Optional<String> bad = checkKey(e.getKey()).or(() -> checkValue(e.getValue()));
        if (bad.isPresent()) {
          return bad;
        }
      }
    }
    for (LabelSelectorRequirement r : expressions(s)) {
      Optional<String> bad = checkRequirement(r);
      if (bad.isPresent()) {
        return bad;
      }
    }
    return Optional.empty();
  }

  /** Converts a selector that passed {@link #check}; null converts to {@link #ALL}. */
  public static Selector of(LabelSelector s) {
    if (s == null) {
      return ALL;
    }
    List<Requirement> reqs = expressions(s).stream()
        .map(r -> new Requirement(r.getKey(), Operator.valueOf(r.getOperator()),
            new TreeSet<>(r.getValues() == null ? List.of() : r.getValues())))
        .toList();
    return new Selector(new TreeMap<>(s.getMatchLabels() == null ? Map.of() : s.getMatchLabels()),
        reqs);
  }

  private static List<LabelSelectorRequirement> expressions(LabelSelector s) {
    return s.getMatchExpressions() == null ? List.of() : s.getMatchExpressions();
  }

  private static Optional<String> checkRequirement(LabelSelectorRequirement r) {
    Optional<String> key = checkKey(r.getKey());
    if (key.isPresent()) {
      return key;
    }
    Operator op;
    try {
      op = Operator.valueOf(String.valueOf(r.getOperator()));
    } catch (IllegalArgumentException e) {
      return Optional.of("unknown selector operator \"" + r.getOperator() + "\" for key "
          + r.getKey() + " (expected In, NotIn, Exists, DoesNotExist)");
    }
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    boolean wantsValues = op == Operator.In || op == Operator.NotIn;
    if (wantsValues && values.isEmpty()) {
      return Optional.of("operator " + op + " on key " + r.getKey() + " needs values");
    }
    if (!wantsValues && !values.isEmpty()) {
      return Optional.of("operator " + op + " on key " + r.getKey() + " takes no values");
    }
    return values.stream().map(Selector::checkValue).flatMap(Optional::stream).findFirst();
  }

  private static Optional<String> checkKey(String key) {
    if (key == null || key.isEmpty()) {
      return Optional.of("empty label key");
    }
    int slash = key.indexOf('/');
    String prefix = slash < 0 ? null : key.substring(0, slash);
    String name = slash < 0 ? key : key.substring(slash + 1);
    boolean ok = !name.isEmpty() && name.length() <= 63 && NAME.matcher(name).matches()
        && (prefix == null || prefix.length() <= 253 && DNS_SUBDOMAIN.matcher(prefix).matches());
    return ok ? Optional.empty() : Optional.of("invalid label key \"" + key + "\"");
  }

  private static Optional<String> checkValue(String value) {
    boolean ok = value != null && value.length() <= 63 && NAME.matcher(value).matches();
    return ok ? Optional.empty() : Optional.of("invalid label value \"" + value + "\"");
  }

  @Override
  public String toString() {
    if (matchLabels.isEmpty() && expressions.isEmpty()) {
      return "{}";
    }
    StringBuilder b = new StringBuilder();
    matchLabels.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
    for (Requirement r : expressions) {
      b.append(b.length() == 0 ? "" : ",").append(switch (r.operator()) {
        case In -> r.key() + " in " + r.values();
        case NotIn -> r.key() + " notin " + r.values();
        case Exists -> r.key();
        case DoesNotExist -> "!" + r.key();
      });
    }
    return b.toString();
  }
}
