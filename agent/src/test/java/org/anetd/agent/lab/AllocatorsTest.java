package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AllocatorsTest {
  @Test
  void clusterIpIsTheLowestFreeSkippingNetworkAndFirstAddress() {
    assertThat(Allocators.clusterIp("198.19.0.0/16", List.of())).hasValue("198.19.0.2");
    assertThat(Allocators.clusterIp("198.19.0.0/16", List.of("198.19.0.2", "198.19.0.4")))
        .hasValue("198.19.0.3");
  }

  @Test
  void aFullServiceCidrAllocatesNothing() {
    assertThat(Allocators.clusterIp("10.0.0.0/30", List.of("10.0.0.2"))).isEmpty();
  }

  @Test
  void nodePortIsTheLowestFreeOfTheRange() {
    assertThat(Allocators.nodePort(30000, 32767, List.of())).hasValue(30000);
    assertThat(Allocators.nodePort(30000, 32767, List.of(30000, 30001, 30003))).hasValue(30002);
    assertThat(Allocators.nodePort(30000, 30001, List.of(30000, 30001))).isEmpty();
  }
}
