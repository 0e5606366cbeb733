package org.anetd.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NetworkLoggingValidatorTest {
  private final NetworkLoggingValidator validator = new NetworkLoggingValidator();

  static Stream<Arguments> cases() {
    return Stream.of(
        // name, allow.log, allow.delegate, deny.log, deny.delegate, expected problem or null
        Arguments.of("default", false, false, false, false, null),
        Arguments.of("default", true, false, true, false, null),
        Arguments.of("default", true, true, true, true, null),
        Arguments.of("default", false, false, true, true, null),
        Arguments.of("default", false, true, false, false,
            "spec.cluster.allow.delegate requires spec.cluster.allow.log: true"),
        Arguments.of("default", true, true, false, true,
            "spec.cluster.deny.delegate requires spec.cluster.deny.log: true"),
        Arguments.of("default", false, true, false, true,
            "spec.cluster.allow.delegate requires spec.cluster.allow.log: true"),
        Arguments.of("other", true, false, true, false,
            "metadata.name is \"other\": only the NetworkLogging named default is used"),
        // the name is checked first: a wrong name is the problem even with a bad spec
        Arguments.of("Default", false, true, false, false,
            "metadata.name is \"Default\": only the NetworkLogging named default is used"));
  }

  @ParameterizedTest(name = "{0} allow={1}/{2} deny={3}/{4} -> {5}")
  @MethodSource("cases")
  void firstProblemNamesTheField(String name, boolean allowLog, boolean allowDelegate,
      boolean denyLog, boolean denyDelegate, String expected) {
    NetworkLogging nl = NetworkLogging.named(name,
        NetworkLoggingSpec.of(allowLog, allowDelegate, denyLog, denyDelegate));
    assertThat(validator.validate(nl)).isEqualTo(Optional.ofNullable(expected));
  }

  @Test
  void absentSpecReadsAsEverythingOff() {
    NetworkLogging noSpec = NetworkLogging.named("default", null);
    NetworkLogging noCluster = NetworkLogging.named("default", new NetworkLoggingSpec());
    NetworkLogging noDeny = NetworkLogging.named("default", new NetworkLoggingSpec(
        new NetworkLoggingSpec.ClusterLogging(new NetworkLoggingSpec.ActionLogging(true, true),
            null)));

    assertThat(validator.validate(noSpec)).isEmpty();
    assertThat(validator.validate(noCluster)).isEmpty();
    assertThat(validator.validate(noDeny)).isEmpty();
    assertThat(new NetworkLoggingSpec()).isEqualTo(NetworkLoggingSpec.of(false, false, false, false));
  }

  @Test
  void allowLoggingWithoutDelegateIsAWarningNotAnError() {
    NetworkLoggingSpec loud = NetworkLoggingSpec.of(true, false, false, false);

    assertThat(validator.checkSpec(loud)).isEmpty();
    assertThat(validator.warnings(loud)).singleElement()
        .satisfies(w -> {
          assertThat(w.type()).isEqualTo(NetworkLoggingValidator.ALLOW_LOGGING_UNDELEGATED);
          assertThat(w.message()).contains("spec.cluster.allow.log");
        });
    assertThat(validator.warnings(NetworkLoggingSpec.of(true, true, true, false))).isEmpty();
    assertThat(validator.warnings(NetworkLoggingSpec.of(false, false, true, false))).isEmpty();
  }
}
