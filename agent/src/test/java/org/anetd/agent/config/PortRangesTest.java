package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PortRangesTest {
  private static final PortRange NODE_PORTS = new PortRange(30000, 32767);

  private static PortRange r(int first, int last) {
    return new PortRange(first, last);
  }

  static Stream<Arguments> overlaps() {
    return Stream.of(
        // Linux's default ephemeral range sits just above the default NodePort range.
        Arguments.of(r(30000, 32767), r(32768, 60999), null),
        Arguments.of(r(30000, 32767), r(32767, 60999), r(32767, 32767)),
        Arguments.of(r(30000, 32767), r(32000, 60999), r(32000, 32767)),
        Arguments.of(r(30000, 32767), r(1024, 65535), r(30000, 32767)),
        Arguments.of(r(30000, 32767), r(31000, 31999), r(31000, 31999)),
        Arguments.of(r(30000, 32767), r(10000, 30000), r(30000, 30000)),
        Arguments.of(r(30000, 32767), r(10000, 29999), null),
        Arguments.of(r(20000, 22767), r(32768, 60999), null));
  }

  @ParameterizedTest(name = "{0} and {1} -> {2}")
  @MethodSource("overlaps")
  void overlapIsTheIntersectionBothWays(PortRange a, PortRange b, PortRange expected) {
    assertThat(PortRanges.overlap(a, b)).isEqualTo(Optional.ofNullable(expected));
    assertThat(PortRanges.overlap(b, a)).isEqualTo(Optional.ofNullable(expected));
  }

  static Stream<Arguments> subtractions() {
    return Stream.of(
        Arguments.of(r(100, 200), List.of(), List.of(r(100, 200))),
        Arguments.of(r(100, 200), List.of(r(100, 200)), List.of()),
        Arguments.of(r(100, 200), List.of(r(0, 65535)), List.of()),
        Arguments.of(r(100, 200), List.of(r(150, 150)), List.of(r(100, 149), r(151, 200))),
        Arguments.of(r(100, 200), List.of(r(180, 300), r(90, 120)), List.of(r(121, 179))),
        Arguments.of(r(100, 200), List.of(r(100, 150), r(140, 199)), List.of(r(200, 200))),
        Arguments.of(r(100, 200), List.of(r(1, 50), r(300, 400)), List.of(r(100, 200))));
  }

  @ParameterizedTest(name = "{0} minus {1} -> {2}")
  @MethodSource("subtractions")
  void subtractLeavesThePortsNoHoleCovers(PortRange range, List<PortRange> holes,
      List<PortRange> expected) {
    assertThat(PortRanges.subtract(range, holes)).isEqualTo(expected);
  }

  @Test
  void linuxDefaultsGiveNoWarning() {
    assertThat(PortRanges.nodePortEphemeralWarning(NODE_PORTS, r(32768, 60999), List.of()))
        .isEmpty();
  }

  @Test
  void overlapGivesAWarningNamingBothRangesTheOverlapAndTheFix() {
    assertThat(PortRanges.nodePortEphemeralWarning(NODE_PORTS, r(32000, 60999), List.of()))
        .hasValue("net.ipv4.ip_local_port_range 32000-60999 overlaps node-port-range"
            + " 30000-32767 on 32000-32767: the node may use a NodePort as the source port of an"
            + " outgoing connection, and that NodePort then fails while the connection lasts."
            + " Add 30000-32767 to net.ipv4.ip_local_reserved_ports, or move"
            + " net.ipv4.ip_local_port_range off 30000-32767.");
  }

  @Test
  void reservedPortsAreNotCountedAsOverlap() {
    assertThat(PortRanges.nodePortEphemeralWarning(NODE_PORTS, r(1024, 65535),
        List.of(r(30000, 32767)))).isEmpty();
    assertThat(PortRanges.nodePortEphemeralWarning(NODE_PORTS, r(1024, 65535),
        List.of(r(30000, 31999), r(32500, 32500))))
        .hasValueSatisfying(w -> assertThat(w)
            .contains("on 32000-32499,32501-32767 (not in net.ipv4.ip_local_reserved_ports)"));
  }

  @Test
  void snatPortsOverlappingTheEphemeralRangeGiveAWarningUnlessReserved() {
    PortRange snat = r(61000, 65535);
    assertThat(PortRanges.snatEphemeralWarning(snat, r(32768, 60999), List.of()))
        .as("Linux defaults").isEmpty();
    assertThat(PortRanges.snatEphemeralWarning(snat, r(1024, 65535), List.of()))
        .hasValue("net.ipv4.ip_local_port_range 1024-65535 overlaps the SNAT port range"
            + " 61000-65535 (NodePort connections to backends on other nodes) on 61000-65535: a"
            + " connection of the node to a backend from one of these ports can share its tuple"
            + " with a SNATed connection, and the replies of one then go to the other. Add"
            + " 61000-65535 to net.ipv4.ip_local_reserved_ports, or move"
            + " net.ipv4.ip_local_port_range off 61000-65535.");
    assertThat(PortRanges.snatEphemeralWarning(snat, r(1024, 65535), List.of(r(61000, 65535))))
        .isEmpty();
    assertThat(PortRanges.snatEphemeralWarning(snat, r(32768, 62000), List.of(r(61500, 61600))))
        .hasValueSatisfying(w -> assertThat(w)
            .contains("on 61000-61499,61601-62000 (not in net.ipv4.ip_local_reserved_ports)"));
  }

  @Test
  void parsesProcFiles() {
    assertThat(PortRanges.parseLocalPortRange("32768\t60999\n")).isEqualTo(r(32768, 60999));
    assertThat(PortRanges.parseReservedPorts("\n")).isEmpty();
    assertThat(PortRanges.parseReservedPorts("30000-32767,40000\n"))
        .containsExactly(r(30000, 32767), r(40000, 40000));
    assertThatThrownBy(() -> PortRanges.parseLocalPortRange("32768"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two ports");
    assertThatThrownBy(() -> PortRanges.parseReservedPorts("1-2-3"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void portRangeRejectsInvertedOrOutOfRangeBounds() {
    assertThatThrownBy(() -> r(2, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r(1, 65536)).isInstanceOf(IllegalArgumentException.class);
    assertThat(r(5, 5).toString()).isEqualTo("5");
    assertThat(r(30000, 32767).size()).isEqualTo(2768);
  }
}
