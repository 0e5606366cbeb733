package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.expr;
import static org.anetd.agent.policy.Fixtures.labels;
import static org.anetd.agent.policy.Fixtures.sel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SelectorTest {
  static Stream<Arguments> matching() {
    return Stream.of(
        Arguments.of("emptySelectorMatchesEverything", sel(), "x=1", true),
        Arguments.of("matchLabelsNeedsEveryLabel", sel("a=1", "b=2"), "a=1", false),
        Arguments.of("matchLabelsIgnoresExtraLabels", sel("a=1"), "a=1,b=2", true),
        Arguments.of("inMatchesListedValue", expr("a", "In", "1", "2"), "a=2", true),
        Arguments.of("inNeedsTheKey", expr("a", "In", "1"), "b=1", false),
        Arguments.of("notInRejectsListedValue", expr("a", "NotIn", "1"), "a=1", false),
        Arguments.of("notInAcceptsMissingKey", expr("a", "NotIn", "1"), "b=1", true),
        Arguments.of("existsNeedsKey", expr("a", "Exists"), "a=", true),
        Arguments.of("doesNotExistRejectsKey", expr("a", "DoesNotExist"), "a=1", false),
        Arguments.of("doesNotExistAcceptsMissingKey", expr("a", "DoesNotExist"), "b=1", true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("matching")
  void selectorMatches(String name, LabelSelector s, String podLabels, boolean expected) {
    String[] kv = podLabels.isEmpty() ? new String[0] : podLabels.split(",");
    assertThat(Selector.check(s)).isEmpty();
    assertThat(Selector.of(s).matches(labels(kv))).isEqualTo(expected);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("unknownOperator", expr("a", "Like", "1")),
        Arguments.of("inWithoutValues", expr("a", "In")),
        Arguments.of("existsWithValues", expr("a", "Exists", "1")),
        Arguments.of("badKey", sel("-a=1")),
        Arguments.of("badValue", sel("a=has space")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalidSelectorIsReported(String name, LabelSelector s) {
    assertThat(Selector.check(s)).isPresent();
  }
}
