package org.anetd.agent.logging;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.anetd.agent.datapath.Event;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;

/** API objects, events and a fake clock for the logging tests. */
final class LoggingFixtures {
  static final String NODE = "node-1";

  private LoggingFixtures() {}

  static Pod pod(String ns, String name, String ip) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP()
        .endStatus().build();
  }

  /** A pod whose controller is {@code ownerKind/ownerName}, with extra labels. */
  static Pod ownedPod(String ns, String name, String ip, String ownerKind, String ownerName,
      Map<String, String> labels) {
    return new PodBuilder(pod(ns, name, ip)).editMetadata().withLabels(labels)
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1")
            .withKind(ownerKind).withName(ownerName).withUid(ownerName + "-uid")
            .withController(true).build())
        .endMetadata().build();
  }

  static Namespace namespace(String name, Map<String, String> annotations) {
    return new NamespaceBuilder().withNewMetadata().withName(name)
        .withAnnotations(new HashMap<>(annotations)).endMetadata().build();
  }

  static NetworkPolicy policy(String ns, String name, Map<String, String> annotations) {
    return new NetworkPolicyBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .withAnnotations(new HashMap<>(annotations)).endMetadata().withNewSpec()
        .withNewPodSelector().endPodSelector().endSpec().build();
  }

  static ClusterState state(List<Pod> pods, List<Namespace> namespaces,
      List<NetworkPolicy> policies) {
    return new ClusterState(1, NODE, List.of(), List.of(), pods, namespaces, policies, List.of());
  }

  static Event verdict(long timestampNs, String saddr, int sport, String daddr, int dport,
      Protocol proto, int direction, boolean allowed, long policySetId) {
    return new Event(timestampNs, Ipv4.parse(saddr), Ipv4.parse(daddr), sport, dport,
        Event.TYPE_POLICY_VERDICT, proto, direction, allowed, 7, 256, policySetId, 0);
  }

  static Event tcpIngress(FakeTime time, String saddr, int sport, String daddr, int dport,
      boolean allowed, long policySetId) {
    return verdict(time.getAsLong(), saddr, sport, daddr, dport, Protocol.TCP,
        PolicyKey.DIR_INGRESS, allowed, policySetId);
  }

  static Event tcpEgress(FakeTime time, String saddr, int sport, String daddr, int dport,
      boolean allowed, long policySetId) {
    return verdict(time.getAsLong(), saddr, sport, daddr, dport, Protocol.TCP,
        PolicyKey.DIR_EGRESS, allowed, policySetId);
  }

  /**
   * One fake time for both clocks the logger reads: a wall clock and a monotonic ticker (which
   * starts at a node uptime, as bpf_ktime_get_ns() would). Advances only when told.
   */
  static final class FakeTime extends Clock implements LongSupplier {
    static final long BOOT_NANOS = Duration.ofHours(3).toNanos();
    private final Instant start;
    private long elapsedNanos;

    FakeTime(Instant start) {
      this.start = start;
    }

    void advance(Duration d) {
      elapsedNanos += d.toNanos();
    }

    Duration elapsed() {
      return Duration.ofNanos(elapsedNanos);
    }

    @Override
    public long getAsLong() {
      return BOOT_NANOS + elapsedNanos;
    }

    @Override
    public Instant instant() {
      return start.plusNanos(elapsedNanos);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
