package org.anetd.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.anetd.agent.policy.PortPrefixes.PortPrefix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PortPrefixesTest {
  @ParameterizedTest(name = "{0}-{1} -> {2}")
  @CsvSource({
      "80, 80, 80/16",
      "80, 81, 80/15",
      "81, 82, 81/16 82/16",
      "0, 65535, 0/0",
      "1000, 2000, 1000/13 1008/12 1024/7 1536/8 1792/9 1920/10 1984/12 2000/16",
      "32768, 65535, 32768/1",
  })
  void endPortRangeExpandsToPrefixes(int first, int last, String expected) {
    assertThat(PortPrefixes.of(first, last)).extracting(PortPrefix::toString)
        .containsExactly(expected.split(" "));
  }

  @ParameterizedTest(name = "{0}-{1}")
  @CsvSource({"1, 65535", "30000, 32767", "443, 8443", "5, 5", "65535, 65535"})
  void prefixesCoverTheRangeExactlyOnce(int first, int last) {
    List<PortPrefix> prefixes = PortPrefixes.of(first, last);
    int next = first;
    for (PortPrefix p : prefixes) {
      assertThat(p.first()).as("prefix %s starts where the previous ended", p).isEqualTo(next);
      assertThat(p.first() & ((1 << (16 - p.bits())) - 1)).as("%s is aligned", p).isZero();
      next = p.last() + 1;
    }
    assertThat(next - 1).isEqualTo(last);
  }

  @Test
  void invertedRangeIsRejected() {
    assertThatThrownBy(() -> PortPrefixes.of(82, 81)).isInstanceOf(IllegalArgumentException.class);
  }
}
