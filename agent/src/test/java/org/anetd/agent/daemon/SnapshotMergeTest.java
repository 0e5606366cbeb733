package org.anetd.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;

/** Endpoint addresses fill in pod IPs kubelet has not reported yet, and nothing else. */
class SnapshotMergeTest {
  private static final Ipv4 CNI_IP = Ipv4.parse("198.18.0.9");

  private static Pod withoutIp(String name, String node) {
    return new PodBuilder(ClusterFixtures.pod("default", name, "x", Map.of("app", name)))
        .editSpec().withNodeName(node).endSpec()
        .withNewStatus().withPhase("Pending").endStatus().build();
  }

  private static ClusterState state(Pod... pods) {
    return ClusterFixtures.state(7, List.of(), List.of(), List.of(pods), List.of());
  }

  @Test
  void localPodWithoutStatusIpGetsItsEndpointAddress() {
    ClusterState merged = SnapshotMerge.withEndpointAddresses(
        state(withoutIp("a", ClusterFixtures.NODE)), Map.of("default/a", CNI_IP));

    Pod a = merged.pods().get(0);
    assertThat(a.getStatus().getPodIP()).isEqualTo("198.18.0.9");
    assertThat(a.getStatus().getPodIPs()).extracting(ip -> ip.getIp()).containsExactly("198.18.0.9");
    assertThat(a.getStatus().getPhase()).isEqualTo("Pending");
    assertThat(merged.version()).isEqualTo(7);
  }

  @Test
  void endpointKeyedByUidMatchesToo() {
    ClusterState merged = SnapshotMerge.withEndpointAddresses(
        state(withoutIp("a", ClusterFixtures.NODE)), Map.of("default-a", CNI_IP));

    assertThat(merged.pods().get(0).getStatus().getPodIP()).isEqualTo("198.18.0.9");
  }

  @Test
  void reportedStatusIpWins() {
    Pod reported = ClusterFixtures.pod("default", "a", "198.18.0.2", Map.of());
    ClusterState state = state(reported);

    assertThat(SnapshotMerge.withEndpointAddresses(state, Map.of("default/a", CNI_IP)))
        .isSameAs(state);
  }

  @Test
  void podsOfOtherNodesFinishedPodsAndHostNetworkPodsAreLeftAlone() {
    Pod remote = withoutIp("remote", "node-2");
    Pod finished = new PodBuilder(withoutIp("done", ClusterFixtures.NODE)).editStatus()
        .withPhase("Succeeded").endStatus().build();
    Pod host = new PodBuilder(withoutIp("host", ClusterFixtures.NODE)).editSpec()
        .withHostNetwork(true).endSpec().build();
    ClusterState state = state(remote, finished, host);

    assertThat(SnapshotMerge.withEndpointAddresses(state, Map.of("default/remote", CNI_IP,
        "default/done", CNI_IP, "default/host", CNI_IP))).isSameAs(state);
  }

  @Test
  void theInformersObjectsAreNotModified() {
    Pod original = withoutIp("a", ClusterFixtures.NODE);

    SnapshotMerge.withEndpointAddresses(state(original), Map.of("default/a", CNI_IP));

    assertThat(original.getStatus().getPodIP()).isNull();
  }
}
