package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.block;
import static org.anetd.agent.policy.Fixtures.np;
import static org.anetd.agent.policy.Fixtures.ns;
import static org.anetd.agent.policy.Fixtures.pod;
import static org.anetd.agent.policy.Fixtures.rule;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;

class IpcacheCompilerTest {
  static final Pod LOCAL = pod("x", "a", "10.0.0.1", "app=a");
  static final Pod REMOTE = pod("x", "r", "10.0.1.1", Fixtures.OTHER_NODE, List.of(), "app=r");

  static Map<Ipcache4Key, Ipcache4Value> compile(List<Pod> pods, List<NetworkPolicy> policies) {
    ClusterState s = Fixtures.state(List.of(ns("x")), pods, policies);
    Map<String, Integer> eps = Fixtures.endpoints(pods, Fixtures.NODE);
    DesiredPolicy p = PolicyCompiler.compile(s, eps, IdentityAllocation.EMPTY);
    return IpcacheCompiler.compile(s, p.identities(), eps);
  }

  static Ipcache4Key host(String ip) {
    return Ipcache4Key.host(Ipv4.parse(ip));
  }

  static Ipcache4Key cidr(String c) {
    return Cidr.parse(c).toKey();
  }

  /** Two pods with 10.0.0.5: the old one being deleted (its status still shows the address). */
  private static Pod created(Pod p, String at, boolean deleting) {
    return new PodBuilder(p).editMetadata().withCreationTimestamp(at)
        .withDeletionTimestamp(deleting ? "2026-12-01T10:05:00Z" : null).endMetadata().build();
  }

  private static long identityOf(List<Pod> pods, Map<String, Integer> eps, Pod pod) {
    ClusterState s = Fixtures.state(List.of(ns("x")), pods, List.of());
    return PolicyCompiler.compile(s, eps, IdentityAllocation.EMPTY).identities().of(pod)
        .orElseThrow();
  }

  private static Ipcache4Value entry(List<Pod> pods, Map<String, Integer> eps, String ip) {
    ClusterState s = Fixtures.state(List.of(ns("x")), pods, List.of());
    DesiredPolicy p = PolicyCompiler.compile(s, eps, IdentityAllocation.EMPTY);
    return IpcacheCompiler.compile(s, p.identities(), eps).get(host(ip));
  }

  @Test
  void anAddressGivenAgainGoesToTheNewPodNotToTheOneBeingDeleted() {
    // "a-old" sorts first by name: name order alone would pick it
    Pod old = created(pod("x", "a-old", "10.0.0.5", "app=old"), "2026-12-01T10:00:00Z", true);
    Pod fresh = created(pod("x", "b-new", "10.0.0.5", "app=new"), "2026-12-01T10:06:00Z", false);
    List<Pod> pods = List.of(old, fresh);
    Map<String, Integer> onlyTheNewHasAnEndpoint = Map.of(fresh.getMetadata().getUid(), 7);

    Ipcache4Value v = entry(pods, onlyTheNewHasAnEndpoint, "10.0.0.5");

    assertThat(v.endpointId()).isEqualTo(7);
    assertThat(v.identity()).isEqualTo(identityOf(pods, onlyTheNewHasAnEndpoint, fresh));
  }

  @Test
  void withoutALocalEndpointThePodNotBeingDeletedThenTheNewerOneWins() {
    Pod old = created(pod("x", "a-old", "10.0.1.5", Fixtures.OTHER_NODE, List.of(), "app=old"),
        "2026-12-01T10:00:00Z", true);
    Pod fresh = created(pod("x", "b-new", "10.0.1.5", Fixtures.OTHER_NODE, List.of(), "app=new"),
        "2026-12-01T10:06:00Z", false);
    Pod older = created(pod("x", "c-older", "10.0.1.6", Fixtures.OTHER_NODE, List.of(),
        "app=older"), "2026-12-01T09:00:00Z", false);
    Pod newer = created(pod("x", "d-newer", "10.0.1.6", Fixtures.OTHER_NODE, List.of(),
        "app=newer"), "2026-12-01T11:00:00Z", false);
    List<Pod> pods = List.of(old, fresh, older, newer);

    assertThat(entry(pods, Map.of(), "10.0.1.5").identity())
        .isEqualTo(identityOf(pods, Map.of(), fresh));
    assertThat(entry(pods, Map.of(), "10.0.1.6").identity())
        .isEqualTo(identityOf(pods, Map.of(), newer));
  }

  @Test
  void localPodMapsToIdentityNodeAndEndpoint() {
    Ipcache4Value v = compile(List.of(LOCAL), List.of()).get(host("10.0.0.1"));
    assertThat(v.identity()).isGreaterThanOrEqualTo(Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
    assertThat(v.nodeAddress()).isEqualTo(Ipv4.parse(Fixtures.NODE_IP));
    assertThat(v.endpointId()).isEqualTo(1);
  }

  @Test
  void remotePodHasItsNodeAndNoEndpoint() {
    Ipcache4Value v = compile(List.of(LOCAL, REMOTE), List.of()).get(host("10.0.1.1"));
    assertThat(v.nodeAddress()).isEqualTo(Ipv4.parse(Fixtures.OTHER_NODE_IP));
    assertThat(v.endpointId()).isZero();
  }

  @Test
  void hostNetworkAndFinishedPodsAreLeftOut() {
    Pod hostNet = new PodBuilder(pod("x", "h", "10.0.0.7")).editSpec().withHostNetwork(true)
        .endSpec().build();
    Pod done = new PodBuilder(pod("x", "d", "10.0.0.8")).editStatus().withPhase("Succeeded")
        .endStatus().build();
    assertThat(compile(List.of(hostNet, done), List.of()))
        .doesNotContainKeys(host("10.0.0.7"), host("10.0.0.8"));
  }

  @Test
  void thisNodeIsHostOtherNodesAreRemoteAndTheRestIsWorld() {
    Map<Ipcache4Key, Ipcache4Value> m = compile(List.of(), List.of());
    assertThat(m.get(host(Fixtures.NODE_IP)).identity()).isEqualTo(Ipcache4Value.IDENTITY_HOST);
    assertThat(m.get(host(Fixtures.OTHER_NODE_IP)).identity())
        .isEqualTo(Ipcache4Value.IDENTITY_REMOTE_NODE);
    assertThat(m.get(cidr("0.0.0.0/0")).identity()).isEqualTo(Ipcache4Value.IDENTITY_WORLD);
    assertThat(m).hasSize(3);
  }

  @Test
  void ipBlockExceptCarvesOutPrefix() {
    Map<Ipcache4Key, Ipcache4Value> m = compile(List.of(), List.of(np("x", "p")
        .ingress(rule(List.of(block("172.16.0.0/12", "172.16.5.0/24")))).build()));
    long inside = m.get(cidr("172.16.0.0/12")).identity();
    assertThat(inside).isGreaterThanOrEqualTo(Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
    // The excepted prefix matches no block, like the world outside: it is world.
    assertThat(m.get(cidr("172.16.5.0/24")).identity()).isEqualTo(Ipcache4Value.IDENTITY_WORLD);
  }

  @Test
  void exceptUnderAllAddressesGetsItsOwnIdentity() {
    Map<Ipcache4Key, Ipcache4Value> m = compile(List.of(), List.of(np("x", "p")
        .egress(rule(List.of(block("0.0.0.0/0", "10.0.0.0/8")))).build()));
    assertThat(m.get(cidr("0.0.0.0/0")).identity()).isEqualTo(Ipcache4Value.IDENTITY_WORLD);
    assertThat(m.get(cidr("10.0.0.0/8")).identity())
        .isGreaterThanOrEqualTo(Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
  }

  @Test
  void ipBlockContainingPodGivesPodItsOwnIdentity() {
    Pod twin = pod("x", "twin", "10.0.0.2", "app=a"); // same labels as LOCAL
    long before = compile(List.of(LOCAL, twin), List.of()).get(host("10.0.0.1")).identity();
    assertThat(compile(List.of(LOCAL, twin), List.of()).get(host("10.0.0.2")).identity())
        .isEqualTo(before);
    Map<Ipcache4Key, Ipcache4Value> m = compile(List.of(LOCAL, twin), List.of(
        np("x", "p").ingress(rule(List.of(block("10.0.0.2/32")))).build()));
    assertThat(m.get(host("10.0.0.2")).identity()).isNotEqualTo(m.get(host("10.0.0.1")).identity());
  }
}
