package org.anetd.agent.logging;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to log, from the cluster's NetworkLogging object ({@code networking.gke.io/v1alpha1},
 * named {@code default}): {@code cluster.allow.{log,delegate}} and {@code
 * cluster.deny.{log,delegate}} of its {@code status.appliedSpec}, or of its {@code spec} while it
 * has none. Read here as a generic resource so the agent needs none of
 * the operator's classes; the rules of {@link #validate} are the operator's.
 *
 * <ul>
 *   <li>{@code log=false}: nothing of that disposition is logged.
 *   <li>allow, {@code delegate=true}: only connections allowed by at least one NetworkPolicy
 *       annotated {@value #ENABLE_LOGGING}{@code : "true"}; the record still lists every policy
 *       that allowed the connection (the annotation chooses <em>whether</em> to log, not what the
 *       record says, so a reader never sees a partial reason).
 *   <li>deny, {@code delegate=true}: only denies whose local endpoint (dest on ingress, src on
 *       egress) lives in a namespace annotated {@value #ENABLE_DENY_LOGGING}{@code : "true"}.
 * </ul>
 */
public record LoggingSettings(DispositionSettings allow, DispositionSettings deny) {
  public static final String NAME = "default";
  public static final String ENABLE_LOGGING = "policy.network.gke.io/enable-logging";
  public static final String ENABLE_DENY_LOGGING = "policy.network.gke.io/enable-deny-logging";

  /** Nothing logged: the state before a NetworkLogging object is seen (GKE's default too). */
  public static final LoggingSettings DISABLED = new LoggingSettings(DispositionSettings.OFF,
      DispositionSettings.OFF);

  /** The settings of one disposition. */
  public record DispositionSettings(boolean log, boolean delegate) {
    public static final DispositionSettings OFF = new DispositionSettings(false, false);
    public static final DispositionSettings ALL = new DispositionSettings(true, false);
    public static final DispositionSettings DELEGATED = new DispositionSettings(true, true);
  }

  /**
   * The outcome of reading a NetworkLogging object: settings when valid, else the problems.
   * {@link #orKeep} gives what to apply: a bad edit keeps the last good settings in force.
   */
  public record Parsed(Optional<LoggingSettings> settings, List<String> problems) {
    public Parsed {
      problems = List.copyOf(problems);
    }

    public LoggingSettings orKeep(LoggingSettings previous) {
      return settings.orElse(previous);
    }
  }

  /**
   * Reads a NetworkLogging object: {@code status.appliedSpec} when the operator has written one
   * (the settings in force: an invalid edit of {@code spec} leaves it as it was, so an agent that
   * starts after such an edit logs what the others log), else {@code spec} under the same rules
   * (a cluster without the operator, or before its first pass). An invalid one yields problems
   * and no settings.
   */
  public static Parsed parse(GenericKubernetesResource resource) {
    String name = resource.getMetadata() == null ? null : resource.getMetadata().getName();
    Map<String, Object> fields = resource.getAdditionalProperties();
    if (fields.get("status") instanceof Map<?, ?> status
        && status.get("appliedSpec") instanceof Map<?, ?> applied) {
      return parse(name, applied, "status.appliedSpec");
    }
    Object spec = fields.get("spec");
    return parse(name, spec instanceof Map<?, ?> m ? m : Map.of(), "spec");
  }

  /** Reads {@code spec} of the NetworkLogging object called {@code name}. */
  public static Parsed parse(String name, Map<?, ?> spec) {
    return parse(name, spec, "spec");
  }

  /** Reads {@code fields} (a spec, found at {@code path}) of the object called {@code name}. */
  private static Parsed parse(String name, Map<?, ?> fields, String path) {
    List<String> problems = new ArrayList<>();
    Map<?, ?> cluster = object(fields, "cluster", path + ".cluster", problems);
    DispositionSettings allow = disposition(cluster, "allow", path, problems);
    DispositionSettings deny = disposition(cluster, "deny", path, problems);
    LoggingSettings settings = new LoggingSettings(allow, deny);
    problems.addAll(validate(name, settings));
    return new Parsed(problems.isEmpty() ? Optional.of(settings) : Optional.empty(), problems);
  }

  /**
   * The operator's rules: only the object named {@code default} configures logging, and {@code
   * delegate} means "log, but only what annotations ask for", so it needs {@code log: true}.
   */
  public static List<String> validate(String name, LoggingSettings s) {
    List<String> problems = new ArrayList<>();
    if (!NAME.equals(name)) {
      problems.add("NetworkLogging \"" + name + "\" is ignored: only the object named \"" + NAME
          + "\" configures policy logging");
    }
    if (s.allow().delegate() && !s.allow().log()) {
      problems.add("spec.cluster.allow.delegate is true but spec.cluster.allow.log is false:"
          + " delegate requires log");
    }
    if (s.deny().delegate() && !s.deny().log()) {
      problems.add("spec.cluster.deny.delegate is true but spec.cluster.deny.log is false:"
          + " delegate requires log");
    }
    return problems;
  }

  private static DispositionSettings disposition(Map<?, ?> cluster, String key, String specPath,
      List<String> problems) {
    String path = specPath + ".cluster." + key;
    Map<?, ?> m = object(cluster, key, path, problems);
    return new DispositionSettings(bool(m, "log", path, problems),
        bool(m, "delegate", path, problems));
  }

  /** A nested object; absent means empty (every flag defaults to false, as in the CRD). */
  private static Map<?, ?> object(Map<?, ?> parent, String key, String path,
      List<String> problems) {
    Object v = parent.get(key);
    if (v == null) {
      return Map.of();
    }
    if (v instanceof Map<?, ?> m) {
      return m;
    }
    problems.add(path + " must be an object, got " + describe(v));
    return Map.of();
  }

  private static boolean bool(Map<?, ?> parent, String key, String path, List<String> problems) {
    Object v = parent.get(key);
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    // "true" as a string is a YAML quoting slip; the CRD schema would reject it, so do we.
    problems.add(path + "." + key + " must be a boolean, got " + describe(v));
    return false;
  }

  private static String describe(Object v) {
    return v instanceof String s ? "\"" + s + "\"" : v.getClass().getSimpleName() + " " + v;
  }
}
