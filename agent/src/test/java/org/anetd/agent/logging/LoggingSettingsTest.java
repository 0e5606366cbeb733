package org.anetd.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.anetd.agent.logging.LoggingSettings.DispositionSettings;
import org.anetd.agent.logging.LoggingSettings.Parsed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LoggingSettingsTest {
  static final LoggingSettings PREVIOUS = new LoggingSettings(DispositionSettings.ALL,
      DispositionSettings.ALL);

  static GenericKubernetesResource networkLogging(String name, Map<String, Object> spec) {
    return new GenericKubernetesResourceBuilder().withApiVersion("networking.gke.io/v1alpha1")
        .withKind("NetworkLogging").withNewMetadata().withName(name).endMetadata()
        .addToAdditionalProperties("spec", spec).build();
  }

  static Map<String, Object> spec(Object allowLog, Object allowDelegate, Object denyLog,
      Object denyDelegate) {
    return Map.of("cluster", Map.of(
        "allow", Map.of("log", allowLog, "delegate", allowDelegate),
        "deny", Map.of("log", denyLog, "delegate", denyDelegate)));
  }

  static Stream<Arguments> validObjects() {
    return Stream.of(
        Arguments.of("log everything", spec(true, false, true, false),
            new LoggingSettings(DispositionSettings.ALL, DispositionSettings.ALL)),
        Arguments.of("allows delegated to annotated policies, no denies",
            spec(true, true, false, false),
            new LoggingSettings(DispositionSettings.DELEGATED, DispositionSettings.OFF)),
        Arguments.of("denies delegated to annotated namespaces", spec(false, false, true, true),
            new LoggingSettings(DispositionSettings.OFF, DispositionSettings.DELEGATED)),
        Arguments.of("empty spec: nothing logged", Map.of(), LoggingSettings.DISABLED),
        Arguments.of("missing deny section defaults to off",
            Map.of("cluster", Map.of("allow", Map.of("log", true))),
            new LoggingSettings(DispositionSettings.ALL, DispositionSettings.OFF)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validObjects")
  void validObjectGivesItsSettings(String name, Map<String, Object> spec,
      LoggingSettings expected) {
    Parsed parsed = LoggingSettings.parse(networkLogging("default", spec));
    assertThat(parsed.problems()).isEmpty();
    assertThat(parsed.orKeep(PREVIOUS)).isEqualTo(expected);
  }

  static Stream<Arguments> invalidObjects() {
    return Stream.of(
        Arguments.of("allow delegate without log", "default", spec(false, true, true, false),
            "spec.cluster.allow.delegate is true but spec.cluster.allow.log is false"),
        Arguments.of("deny delegate without log", "default", spec(true, false, false, true),
            "spec.cluster.deny.delegate is true but spec.cluster.deny.log is false"),
        Arguments.of("another name", "mine", spec(true, false, true, false),
            "only the object named \"default\""),
        Arguments.of("a string where a boolean belongs", "default",
            spec("true", false, true, false), "spec.cluster.allow.log must be a boolean"),
        Arguments.of("a list where an object belongs", "default",
            Map.of("cluster", List.of()), "spec.cluster must be an object"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidObjects")
  void invalidObjectKeepsThePreviousSettingsAndSaysWhy(String name, String objectName,
      Map<String, Object> spec, String problem) {
    Parsed parsed = LoggingSettings.parse(networkLogging(objectName, spec));
    assertThat(parsed.settings()).isEmpty();
    assertThat(parsed.problems()).anySatisfy(p -> assertThat(p).contains(problem));
    assertThat(parsed.orKeep(PREVIOUS)).isSameAs(PREVIOUS);
  }

  @Test
  void theSpecTheOperatorAppliedWinsOverAnInvalidEditOfTheSpec() {
    GenericKubernetesResource edited = new GenericKubernetesResourceBuilder(
        networkLogging("default", spec(false, true, false, false)))
        .addToAdditionalProperties("status",
            Map.of("appliedSpec", spec(false, false, true, false)))
        .build();

    Parsed parsed = LoggingSettings.parse(edited);

    assertThat(parsed.problems()).isEmpty();
    assertThat(parsed.orKeep(PREVIOUS))
        .isEqualTo(new LoggingSettings(DispositionSettings.OFF, DispositionSettings.ALL));
  }

  @Test
  void aStatusWithoutAppliedSpecLeavesTheSpecToDecide() {
    GenericKubernetesResource invalidFromTheStart = new GenericKubernetesResourceBuilder(
        networkLogging("default", spec(false, true, false, false)))
        .addToAdditionalProperties("status", Map.of("observedGeneration", 1))
        .build();

    Parsed parsed = LoggingSettings.parse(invalidFromTheStart);

    assertThat(parsed.settings()).isEmpty();
    assertThat(parsed.orKeep(LoggingSettings.DISABLED)).isSameAs(LoggingSettings.DISABLED);
  }

  @Test
  void validateAppliesTheOperatorsRulesToSettings() {
    assertThat(LoggingSettings.validate("default",
        new LoggingSettings(DispositionSettings.DELEGATED, DispositionSettings.ALL))).isEmpty();
    assertThat(LoggingSettings.validate("default", new LoggingSettings(
        new DispositionSettings(false, true), new DispositionSettings(false, true))))
        .hasSize(2);
    assertThat(LoggingSettings.validate("other", LoggingSettings.DISABLED)).hasSize(1);
  }
}
