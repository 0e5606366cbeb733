package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipv4;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class IpamGarbageCollectorTest {
  private static final Instant NOW = Instant.parse("2025-01-01T12:00:00Z");
  private static final Duration GRACE = Duration.ofMinutes(5);
  private static final Instant OLD = NOW.minus(Duration.ofHours(1));
  private static final Instant YOUNG = NOW.minus(Duration.ofMinutes(1));

  private static Allocation allocation(String containerId, String ns, String name, Instant at) {
    return new Allocation(Ipv4.parse("10.4.1.2"), new AttachmentKey(containerId, "eth0"),
        new PodRef(ns, name), at);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("old allocation whose sandbox the runtime runs is kept",
            allocation("c1", "default", "web", OLD),
            List.of(LivePod.ofRuntime("default", "web", "c1")), false),
        Arguments.of("old allocation of a pod that is gone is freed",
            allocation("c1", "default", "web", OLD), List.of(), true),
        Arguments.of("young allocation of a pod that is gone is kept (ADD in flight)",
            allocation("c1", "default", "web", YOUNG), List.of(), false),
        Arguments.of("allocation exactly at the grace boundary is freed",
            allocation("c1", "default", "web", NOW.minus(GRACE)), List.of(), true),
        Arguments.of("pod recreated under the same name with a new sandbox frees the old address",
            allocation("c1", "default", "web", OLD),
            List.of(LivePod.ofRuntime("default", "web", "c2")), true),
        Arguments.of("pod known to the API (no sandbox id) keeps its address",
            allocation("c1", "default", "web", OLD), List.of(LivePod.ofApi("default", "web")),
            false),
        Arguments.of("same pod name in another namespace does not keep it",
            allocation("c1", "default", "web", OLD), List.of(LivePod.ofApi("prod", "web")), true),
        Arguments.of("allocation without pod name is kept only by its sandbox",
            allocation("c1", "", "", OLD), List.of(LivePod.ofApi("", "")), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decidesWhichAllocationsLeaked(String behaviour, Allocation allocation, List<LivePod> live,
      boolean freed) {
    List<Allocation> toFree = IpamGarbageCollector.toFree(List.of(allocation), live, NOW, GRACE);

    assertThat(toFree.contains(allocation)).as(behaviour).isEqualTo(freed);
  }
}
