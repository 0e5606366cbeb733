package org.anetd.operator.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.anetd.operator.api.NetworkLoggingSpec.ActionLogging;

/**
 * The one set of checks for {@link NetworkLogging}, run by the operator (to write status and
 * events) and by the agent (to decide whether a spec may be used). Each check is a small method
 * returning the first problem as a message that names the field; {@link #validate} returns the
 * first problem of all checks. Free of java-operator-sdk types on purpose.
 */
public final class NetworkLoggingValidator {
  /** Warning condition type: allowed connections are logged on every node, undelegated. */
  public static final String ALLOW_LOGGING_UNDELEGATED = "AllowLoggingUndelegated";

  /** The first problem with this object, or empty when it may be applied. */
  public Optional<String> validate(NetworkLogging nl) {
    NetworkLoggingSpec spec = nl.getSpec() == null ? new NetworkLoggingSpec() : nl.getSpec();
    return firstPresent(
        () -> checkName(nl.getMetadata() == null ? null : nl.getMetadata().getName()),
        () -> checkSpec(spec));
  }

  /** The first problem with a spec alone (the name is not looked at). */
  public Optional<String> checkSpec(NetworkLoggingSpec spec) {
    NetworkLoggingSpec.ClusterLogging cluster = spec.clusterOrDefault();
    return firstPresent(
        () -> checkDelegateRequiresLog("spec.cluster.allow", cluster.allowOrDefault()),
        () -> checkDelegateRequiresLog("spec.cluster.deny", cluster.denyOrDefault()));
  }

  /** Only the object named {@code default} is honoured, as in GKE. */
  public Optional<String> checkName(String name) {
    if (NetworkLogging.DEFAULT_NAME.equals(name)) {
      return Optional.empty();
    }
    return Optional.of("metadata.name is \"" + name + "\": only the NetworkLogging named "
        + NetworkLogging.DEFAULT_NAME + " is used");
  }

  /** delegate: true narrows logging to annotated objects, so it means nothing without log. */
  public Optional<String> checkDelegateRequiresLog(String path, ActionLogging action) {
    if (action.isDelegate() && !action.isLog()) {
      return Optional.of(path + ".delegate requires " + path + ".log: true");
    }
    return Optional.empty();
  }

  /** Legal but risky settings of a valid spec. */
  public List<SpecWarning> warnings(NetworkLoggingSpec spec) {
    List<SpecWarning> warnings = new ArrayList<>();
    checkAllowUndelegated(spec.clusterOrDefault().allowOrDefault()).ifPresent(warnings::add);
    return warnings;
  }

  /** Logging every allowed connection on every node is loud: the log rotates at 10 MB x 5. */
  public Optional<SpecWarning> checkAllowUndelegated(ActionLogging allow) {
    if (allow.isLog() && !allow.isDelegate()) {
      return Optional.of(new SpecWarning(ALLOW_LOGGING_UNDELEGATED, "HighLogVolume",
          "spec.cluster.allow.log: true with delegate: false logs every allowed connection on"
              + " every node; consider delegate: true and annotating NetworkPolicies with"
              + " policy.network.gke.io/enable-logging: \"true\""));
    }
    return Optional.empty();
  }

  @SafeVarargs
  private static <T> Optional<T> firstPresent(Supplier<Optional<T>>... checks) {
    return Stream.of(checks).map(Supplier::get).flatMap(Optional::stream).findFirst();
  }
}
