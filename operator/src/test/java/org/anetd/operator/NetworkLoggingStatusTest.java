package org.anetd.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.Optional;
import org.anetd.operator.api.NetworkLoggingSpec;
import org.anetd.operator.api.NetworkLoggingStatus;
import org.anetd.operator.api.NetworkLoggingValidator;
import org.junit.jupiter.api.Test;

/** The status rules, without a cluster (Keycloak's KeycloakStatusTest). */
class NetworkLoggingStatusTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final Instant T1 = Instant.parse("2025-01-01T00:05:00Z");
  private static final Instant T2 = Instant.parse("2025-01-01T00:10:00Z");
  private static final NetworkLoggingSpec DENY_ONLY = NetworkLoggingSpec.of(false, false, true, false);
  private static final NetworkLoggingSpec DELEGATED = NetworkLoggingSpec.of(true, true, true, true);
  private static final NetworkLoggingSpec BAD = NetworkLoggingSpec.of(false, true, false, false);
  private static final Optional<String> BAD_MESSAGE =
      Optional.of("spec.cluster.allow.delegate requires spec.cluster.allow.log: true");

  private final NetworkLoggingStatusAggregator aggregator =
      new NetworkLoggingStatusAggregator(new NetworkLoggingValidator());

  @Test
  void validSpecIsReadyAndApplied() {
    NetworkLoggingStatus s = aggregator.next(null, 1L, DENY_ONLY, Optional.empty(), T0);

    assertThat(s.getObservedGeneration()).isEqualTo(1L);
    assertThat(s.getAppliedSpec()).isEqualTo(DENY_ONLY);
    assertCondition(s, NetworkLoggingStatus.READY, "True", "Applied", T0);
    assertCondition(s, NetworkLoggingStatus.DEGRADED, "False", "Applied", T0);
    assertThat(s.getConditions()).extracting(Condition::getObservedGeneration).containsOnly(1L);
    assertThat(s.isReady()).isTrue();
  }

  @Test
  void invalidSpecKeepsThePreviousAppliedSpec() {
    NetworkLoggingStatus good = aggregator.next(null, 1L, DELEGATED, Optional.empty(), T0);

    NetworkLoggingStatus bad = aggregator.next(good, 2L, BAD, BAD_MESSAGE, T1);

    assertThat(bad.getAppliedSpec()).isEqualTo(DELEGATED);
    assertThat(bad.getObservedGeneration()).isEqualTo(2L);
    assertCondition(bad, NetworkLoggingStatus.READY, "False", "ValidationError", T1);
    assertCondition(bad, NetworkLoggingStatus.DEGRADED, "True", "ValidationError", T1);
    assertThat(bad.condition(NetworkLoggingStatus.READY).orElseThrow().getMessage())
        .isEqualTo(BAD_MESSAGE.get());
    assertThat(bad.condition(NetworkLoggingStatus.DEGRADED).orElseThrow().getMessage())
        .startsWith(BAD_MESSAGE.get()).contains("the last valid spec stays in force");
    assertThat(bad.isReady()).isFalse();
  }

  @Test
  void invalidSpecWithNothingAppliedBeforeAppliesNothing() {
    NetworkLoggingStatus bad = aggregator.next(null, 1L, BAD, BAD_MESSAGE, T0);

    assertThat(bad.getAppliedSpec()).isNull();
    assertThat(bad.condition(NetworkLoggingStatus.DEGRADED).orElseThrow().getMessage())
        .endsWith("nothing is applied");
  }

  @Test
  void lastTransitionTimeStaysWhenNothingChanged() {
    NetworkLoggingStatus first = aggregator.next(null, 1L, DENY_ONLY, Optional.empty(), T0);

    NetworkLoggingStatus again = aggregator.next(first, 1L, DENY_ONLY, Optional.empty(), T1);

    assertThat(again).isEqualTo(first);
  }

  @Test
  void lastTransitionTimeMovesOnlyForConditionsThatChanged() {
    NetworkLoggingStatus good = aggregator.next(null, 1L, DENY_ONLY, Optional.empty(), T0);
    NetworkLoggingStatus bad = aggregator.next(good, 2L, BAD, BAD_MESSAGE, T1);
    // same error again at a later generation: status and message unchanged, no transition
    NetworkLoggingStatus stillBad = aggregator.next(bad, 3L, BAD, BAD_MESSAGE, T2);

    assertCondition(stillBad, NetworkLoggingStatus.READY, "False", "ValidationError", T1);
    assertCondition(stillBad, NetworkLoggingStatus.DEGRADED, "True", "ValidationError", T1);
    assertThat(stillBad.getObservedGeneration()).isEqualTo(3L);
    assertThat(stillBad).isNotEqualTo(bad);
  }

  @Test
  void aNewMessageIsATransition() {
    NetworkLoggingStatus good = aggregator.next(null, 1L, DENY_ONLY, Optional.empty(), T0);
    NetworkLoggingStatus other = aggregator.next(good, 2L, DELEGATED, Optional.empty(), T1);

    // Ready stays True but says what is now in force
    assertCondition(other, NetworkLoggingStatus.READY, "True", "Applied", T1);
    // Degraded stays False with the same empty message
    assertCondition(other, NetworkLoggingStatus.DEGRADED, "False", "Applied", T0);
  }

  @Test
  void recoveryMakesReadyTrueAgainAndAppliesTheNewSpec() {
    NetworkLoggingStatus good = aggregator.next(null, 1L, DENY_ONLY, Optional.empty(), T0);
    NetworkLoggingStatus bad = aggregator.next(good, 2L, BAD, BAD_MESSAGE, T1);

    NetworkLoggingStatus fixed = aggregator.next(bad, 3L, DELEGATED, Optional.empty(), T2);

    assertThat(fixed.getAppliedSpec()).isEqualTo(DELEGATED);
    assertCondition(fixed, NetworkLoggingStatus.READY, "True", "Applied", T2);
    assertCondition(fixed, NetworkLoggingStatus.DEGRADED, "False", "Applied", T2);
  }

  @Test
  void warningConditionFollowsTheSpecInForce() {
    NetworkLoggingSpec loud = NetworkLoggingSpec.of(true, false, false, false);
    NetworkLoggingStatus s1 = aggregator.next(null, 1L, loud, Optional.empty(), T0);
    // an invalid edit keeps the loud spec in force, so its warning stays, unchanged
    NetworkLoggingStatus s2 = aggregator.next(s1, 2L, BAD, BAD_MESSAGE, T1);
    NetworkLoggingStatus s3 = aggregator.next(s2, 3L, DELEGATED, Optional.empty(), T2);

    assertCondition(s1, NetworkLoggingValidator.ALLOW_LOGGING_UNDELEGATED, "True", "HighLogVolume",
        T0);
    assertCondition(s2, NetworkLoggingValidator.ALLOW_LOGGING_UNDELEGATED, "True", "HighLogVolume",
        T0);
    assertThat(s3.condition(NetworkLoggingValidator.ALLOW_LOGGING_UNDELEGATED)).isEmpty();
    assertThat(s1.getConditions()).extracting(Condition::getType).containsExactly(
        NetworkLoggingStatus.READY, NetworkLoggingStatus.DEGRADED,
        NetworkLoggingValidator.ALLOW_LOGGING_UNDELEGATED);
  }

  @Test
  void absentSpecIsAppliedAsEverythingOff() {
    NetworkLoggingStatus s = aggregator.next(null, 1L, null, Optional.empty(), T0);

    assertThat(s.getAppliedSpec()).isEqualTo(NetworkLoggingSpec.of(false, false, false, false));
    assertThat(s.getAppliedSpec().getCluster()).isNotNull();
  }

  private static void assertCondition(
      NetworkLoggingStatus s, String type, String status, String reason, Instant transition) {
    Condition c = s.condition(type).orElseThrow(() -> new AssertionError("no condition " + type));
    assertThat(c.getStatus()).as(type + ".status").isEqualTo(status);
    assertThat(c.getReason()).as(type + ".reason").isEqualTo(reason);
    assertThat(c.getLastTransitionTime()).as(type + ".lastTransitionTime")
        .isEqualTo(transition.toString());
  }
}
