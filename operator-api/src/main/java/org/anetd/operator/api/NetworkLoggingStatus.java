package org.anetd.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code status} of a {@link NetworkLogging}, written only by the operator.
 *
 * <p>{@link #getAppliedSpec()} is the last valid spec: the settings in force, which agents read.
 * An invalid edit never changes it. Conditions: {@value #READY}, {@value #DEGRADED}, and one
 * condition per warning (legal but risky settings, status {@code True} while they apply).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NetworkLoggingStatus {
  public static final String READY = "Ready";
  public static final String DEGRADED = "Degraded";

  @JsonPropertyDescription("metadata.generation of the spec this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Ready, Degraded and warning conditions.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription(
      "The last valid spec: the settings in force. An invalid spec leaves it unchanged.")
  private NetworkLoggingSpec appliedSpec;

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public NetworkLoggingSpec getAppliedSpec() {
    return appliedSpec;
  }

  public void setAppliedSpec(NetworkLoggingSpec appliedSpec) {
    this.appliedSpec = appliedSpec;
  }

  /** The condition of this type, if present. */
  public Optional<Condition> condition(String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** True when the Ready condition is present with status True. */
  @JsonIgnore
  public boolean isReady() {
    return condition(READY).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetworkLoggingStatus other
        && Objects.equals(observedGeneration, other.observedGeneration)
        && Objects.equals(conditions, other.conditions)
        && Objects.equals(appliedSpec, other.appliedSpec);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, conditions, appliedSpec);
  }

  @Override
  public String toString() {
    return "{observedGeneration: " + observedGeneration + ", conditions: " + conditions
        + ", appliedSpec: " + appliedSpec + "}";
  }
}
