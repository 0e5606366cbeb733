package org.anetd.operator;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.anetd.operator.api.NetworkLoggingSpec;
import org.anetd.operator.api.NetworkLoggingStatus;
import org.anetd.operator.api.NetworkLoggingValidator;
import org.anetd.operator.api.SpecWarning;

/**
 * Computes the next NetworkLogging status from the previous one and the outcome of validation,
 * with no client and no clock of its own (Keycloak's {@code KeycloakStatusAggregator}).
 *
 * <ul>
 *   <li>Valid: {@code appliedSpec} becomes the spec; Ready=True, Degraded=False.
 *   <li>Invalid: {@code appliedSpec} stays what it was (possibly absent: nothing applied);
 *       Ready=False and Degraded=True, both carrying the validation message.
 *   <li>One condition per {@link SpecWarning} of the spec in force, status True; a warning that
 *       no longer applies is dropped.
 *   <li>{@code lastTransitionTime} is kept from the previous condition of the same type when its
 *       status and message are unchanged, and set to {@code now} otherwise.
 * </ul>
 */
public final class NetworkLoggingStatusAggregator {
  public static final String REASON_APPLIED = "Applied";
  public static final String REASON_VALIDATION_ERROR = EventReason.ValidationError.name();

  private final NetworkLoggingValidator validator;

  public NetworkLoggingStatusAggregator(NetworkLoggingValidator validator) {
    this.validator = validator;
  }

  /**
   * @param previous the status on the object (null when never written)
   * @param generation metadata.generation of the object
   * @param spec its spec (null reads as all-false)
   * @param error the validation problem, empty when valid
   * @param now the time a changed condition transitions at
   */
  public NetworkLoggingStatus next(NetworkLoggingStatus previous, Long generation,
      NetworkLoggingSpec spec, Optional<String> error, Instant now) {
    NetworkLoggingStatus prev = previous == null ? new NetworkLoggingStatus() : previous;
    NetworkLoggingSpec applied = error.isEmpty()
        ? (spec == null ? new NetworkLoggingSpec() : spec).normalizedCopy()
        : prev.getAppliedSpec();

    List<Condition> conditions = new ArrayList<>();
    if (error.isEmpty()) {
      conditions.add(condition(NetworkLoggingStatus.READY, true, REASON_APPLIED,
          "the spec is in force: " + applied, generation));
      conditions.add(condition(NetworkLoggingStatus.DEGRADED, false, REASON_APPLIED, "",
          generation));
    } else {
      String kept = applied == null
          ? "nothing is applied"
          : "the last valid spec stays in force: " + applied;
      conditions.add(condition(NetworkLoggingStatus.READY, false, REASON_VALIDATION_ERROR,
          error.get(), generation));
      conditions.add(condition(NetworkLoggingStatus.DEGRADED, true, REASON_VALIDATION_ERROR,
          error.get() + "; " + kept, generation));
    }
    if (applied != null) {
      validator.warnings(applied).stream()
          .sorted(Comparator.comparing(SpecWarning::type))
          .map(w -> condition(w.type(), true, w.reason(), w.message(), generation))
          .forEach(conditions::add);
    }
    conditions.forEach(c -> c.setLastTransitionTime(transitionTime(prev, c, now)));

    NetworkLoggingStatus next = new NetworkLoggingStatus();
    next.setObservedGeneration(generation);
    next.setConditions(conditions);
    next.setAppliedSpec(applied);
    return next;
  }

  private static String transitionTime(NetworkLoggingStatus prev, Condition c, Instant now) {
    return prev.condition(c.getType())
        .filter(p -> Objects.equals(p.getStatus(), c.getStatus())
            && Objects.equals(p.getMessage(), c.getMessage())
            && p.getLastTransitionTime() != null)
        .map(Condition::getLastTransitionTime)
        .orElse(EventRecorder.timestamp(now));
  }

  private static Condition condition(
      String type, boolean status, String reason, String message, Long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status ? "True" : "False")
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .build();
  }
}
