package org.anetd.agent.logging;

import static org.anetd.agent.logging.LoggingFixtures.ownedPod;
import static org.anetd.agent.logging.LoggingFixtures.pod;
import static org.anetd.agent.logging.LoggingFixtures.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.logging.EndpointResolver.Workload;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyActionRecord.PodPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EndpointResolverTest {
  static Stream<Arguments> workloads() {
    return Stream.of(
        Arguments.of("Deployment: ReplicaSet name without its pod-template-hash",
            ownedPod("web", "client-5d9c7b8f6-x2x4q", "10.0.0.1", "ReplicaSet",
                "client-5d9c7b8f6", Map.of("pod-template-hash", "5d9c7b8f6")),
            new Workload("Deployment", "client")),
        Arguments.of("Deployment whose name has dashes",
            ownedPod("web", "front-end-api-7f-abcde", "10.0.0.1", "ReplicaSet",
                "front-end-api-7f", Map.of("pod-template-hash", "7f")),
            new Workload("Deployment", "front-end-api")),
        Arguments.of("bare ReplicaSet (no pod-template-hash label) stays a ReplicaSet",
            ownedPod("web", "rs-abcde", "10.0.0.1", "ReplicaSet", "rs", Map.of()),
            new Workload("ReplicaSet", "rs")),
        Arguments.of("StatefulSet",
            ownedPod("data", "db-0", "10.0.0.1", "StatefulSet", "db", Map.of()),
            new Workload("StatefulSet", "db")),
        Arguments.of("DaemonSet",
            ownedPod("kube-system", "agent-abcde", "10.0.0.1", "DaemonSet", "agent", Map.of()),
            new Workload("DaemonSet", "agent")),
        Arguments.of("CronJob: Job name without its scheduled-minutes suffix",
            ownedPod("ops", "backup-29125440-q7x2z", "10.0.0.1", "Job", "backup-29125440",
                Map.of()),
            new Workload("CronJob", "backup")),
        Arguments.of("a hand-made Job with a small trailing number stays a Job",
            ownedPod("ops", "migrate-2-abcde", "10.0.0.1", "Job", "migrate-2", Map.of()),
            new Workload("Job", "migrate-2")),
        Arguments.of("bare pod: empty kind and name",
            pod("tools", "debug", "10.0.0.1"), Workload.NONE),
        Arguments.of("static pod mirrored by the kubelet (owner Node): no workload",
            ownedPod("kube-system", "etcd-node-1", "10.0.0.1", "Node", "node-1", Map.of()),
            Workload.NONE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("workloads")
  void workloadComesFromTheControllerOwner(String name, Pod pod, Workload expected) {
    assertThat(EndpointResolver.workloadOf(pod)).isEqualTo(expected);
  }

  @Test
  void podAddressResolvesToPodWithWorkload() {
    EndpointResolver r = EndpointResolver.of(state(List.of(ownedPod("data", "db-0", "10.0.0.5",
        "StatefulSet", "db", Map.of())), List.of(), List.of()));
    assertThat(r.resolve(Ipv4.parse("10.0.0.5")))
        .isEqualTo(new PodPeer("db-0", "data", "StatefulSet", "db"));
  }

  @Test
  void addressOfNoPodResolvesToInstance() {
    EndpointResolver r = EndpointResolver.of(state(List.of(pod("a", "p", "10.0.0.5")), List.of(),
        List.of()));
    assertThat(r.resolve(Ipv4.parse("192.168.1.10")))
        .isEqualTo(new InstancePeer(Ipv4.parse("192.168.1.10")));
  }

  @Test
  void hostNetworkPodIsTheNodeInstance() {
    Pod host = new PodBuilder(pod("kube-system", "kube-proxy", "192.168.1.10")).withNewSpec()
        .withHostNetwork(true).endSpec().build();
    EndpointResolver r = EndpointResolver.of(state(List.of(host), List.of(), List.of()));
    assertThat(r.resolve(Ipv4.parse("192.168.1.10")))
        .isEqualTo(new InstancePeer(Ipv4.parse("192.168.1.10")));
  }

  @Test
  void reusedAddressResolvesToTheRunningPodNotTheFinishedOne() {
    Pod done = new PodBuilder(pod("a", "job-old", "10.0.0.5")).editStatus().withPhase("Succeeded")
        .endStatus().build();
    Pod pending = new PodBuilder(pod("a", "zz-pending", "10.0.0.5")).editStatus()
        .withPhase("Pending").endStatus().build();
    Pod now = pod("a", "web-new", "10.0.0.5");
    EndpointResolver r = EndpointResolver.of(state(List.of(now, done, pending), List.of(),
        List.of()));
    assertThat(r.resolve(Ipv4.parse("10.0.0.5")))
        .isEqualTo(new PodPeer("web-new", "a", "", ""));
  }
}
