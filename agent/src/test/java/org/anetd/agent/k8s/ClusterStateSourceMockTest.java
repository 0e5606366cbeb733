package org.anetd.agent.k8s;

import static org.anetd.agent.k8s.K8sObjects.endpointSlice;
import static org.anetd.agent.k8s.K8sObjects.names;
import static org.anetd.agent.k8s.K8sObjects.namespace;
import static org.anetd.agent.k8s.K8sObjects.namespacedNames;
import static org.anetd.agent.k8s.K8sObjects.networkPolicy;
import static org.anetd.agent.k8s.K8sObjects.node;
import static org.anetd.agent.k8s.K8sObjects.pod;
import static org.anetd.agent.k8s.K8sObjects.service;
import static org.anetd.agent.k8s.Snapshots.awaitState;
import static org.anetd.agent.k8s.Snapshots.first;
import static org.anetd.agent.k8s.Snapshots.firstWhileWatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Informers to snapshots, against fabric8's CRUD mock API server. */
@EnableKubernetesMockClient(crud = true, kubernetesClientBuilderCustomizer = FastReconnect.class)
class ClusterStateSourceMockTest {
  private static final String NODE = "node-a";
  private static final String NS = "shop";

  KubernetesClient client;
  KubernetesMockServer server;
  private final List<ClusterStateSource> sources = new ArrayList<>();

  @AfterEach
  void closeSources() {
    sources.forEach(ClusterStateSource::close);
  }

  private ClusterStateSource started(Duration debounce) {
    ClusterStateSource source = new ClusterStateSource(client, NODE, debounce);
    sources.add(source);
    return source.start();
  }

  private ClusterStateSource started() {
    return started(ClusterStateSource.DEFAULT_DEBOUNCE);
  }

  /** One watched kind: how to make an object of it and where a snapshot lists it. */
  record Kind(String name, Function<String, HasMetadata> make,
      Function<ClusterState, List<? extends HasMetadata>> list) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Kind> kinds() {
    return Stream.of(
        new Kind("Service", n -> service(NS, n), ClusterState::services),
        new Kind("EndpointSlice", n -> endpointSlice(NS, n), ClusterState::endpointSlices),
        new Kind("NetworkPolicy", n -> networkPolicy(NS, n), ClusterState::networkPolicies),
        new Kind("Pod", n -> pod(NS, n, NODE), ClusterState::pods),
        new Kind("Namespace", K8sObjects::namespace, ClusterState::namespaces),
        new Kind("Node", K8sObjects::node, ClusterState::nodes));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void snapshotsFollowCreateUpdateAndDelete(Kind kind) throws Exception {
    ClusterStateSource source = started();
    ClusterState empty = firstWhileWatching(source);
    assertThat(kind.list().apply(empty)).isEmpty();

    HasMetadata created = client.resource(kind.make().apply("alpha")).create();
    ClusterState afterCreate =
        awaitState(source, s -> names(kind.list().apply(s)).contains("alpha"));

    client.resource(created).edit(o -> {
      o.getMetadata().setLabels(Map.of("revision", "2"));
      return o;
    });
    ClusterState afterUpdate = awaitState(source, s -> kind.list().apply(s).stream()
        .anyMatch(o -> "2".equals(o.getMetadata().getLabels().get("revision"))));

    client.resource(created).delete();
    ClusterState afterDelete = awaitState(source, s -> kind.list().apply(s).isEmpty());

    assertThat(List.of(empty.version(), afterCreate.version(), afterUpdate.version(),
        afterDelete.version())).doesNotHaveDuplicates().isSorted();
  }

  @Test
  void firstSnapshotHoldsEverythingThatExistedBeforeStart() throws Exception {
    client.resource(namespace(NS)).create();
    client.resource(node(NODE)).create();
    client.resource(pod(NS, "web-0", NODE)).create();
    client.resource(service(NS, "web")).create();
    client.resource(endpointSlice(NS, "web-abcde")).create();
    client.resource(networkPolicy(NS, "deny-all")).create();

    ClusterState state = first(started());

    assertThat(state.version()).isEqualTo(1);
    assertThat(state.nodeName()).isEqualTo(NODE);
    assertThat(names(state.namespaces())).containsExactly(NS);
    assertThat(names(state.nodes())).containsExactly(NODE);
    assertThat(names(state.pods())).containsExactly("web-0");
    assertThat(names(state.services())).containsExactly("web");
    assertThat(names(state.endpointSlices())).containsExactly("web-abcde");
    assertThat(names(state.networkPolicies())).containsExactly("deny-all");
  }

  @Test
  void firstSnapshotWaitsUntilEveryInformerHasSynced() throws Exception {
    client.resource(networkPolicy(NS, "deny-all")).create();
    // The NetworkPolicy list fails until the expectation is cleared; the other kinds sync.
    server.expect().get().withPath("/apis/networking.k8s.io/v1/networkpolicies?resourceVersion=0")
        .andReturn(500, "etcd unavailable").always();
    ClusterStateSource source = started();

    await().atMost(Snapshots.TIMEOUT).untilAsserted(() ->
        assertThat(source.health().notReadyKinds()).containsExactly("NetworkPolicy"));
    assertThat(source.awaitNext(0, Duration.ofMillis(300))).isEmpty();

    server.clearExpectations();
    ClusterState state = first(source);

    assertThat(names(state.networkPolicies())).containsExactly("deny-all");
  }

  @Test
  void eachChangeYieldsASnapshotWithAHigherVersion() throws Exception {
    ClusterStateSource source = started();
    long previous = firstWhileWatching(source).version();
    for (int i = 0; i < 5; i++) {
      String name = "node-" + i;
      client.resource(node(name)).create();

      ClusterState state = awaitState(source, s -> names(s.nodes()).contains(name));

      assertThat(state.version()).isGreaterThan(previous);
      assertThat(source.latest()).contains(state);
      previous = state.version();
    }
  }

  @Test
  void burstOfUpdatesCoalescesIntoAtMostOneSnapshotPerDebounceWindow() throws Exception {
    int updates = 100;
    Duration debounce = Duration.ofMillis(500);
    Pod pod = client.resource(pod(NS, "web-0", NODE)).create();
    ClusterStateSource source = started(debounce);
    ClusterState before = firstWhileWatching(source);

    long began = System.nanoTime();
    for (int i = 1; i <= updates; i++) {
      pod.getMetadata().setLabels(Map.of("revision", Integer.toString(i)));
      pod = client.resource(pod).update();
    }
    ClusterState after = awaitState(source, s -> Map.of("revision", Integer.toString(updates))
        .equals(s.pods().get(0).getMetadata().getLabels()));
    long windows = Duration.ofNanos(System.nanoTime() - began).toMillis() / debounce.toMillis();

    // Each snapshot takes the next version, so the difference counts the snapshots built.
    long snapshots = after.version() - before.version();
    assertThat(snapshots).isLessThanOrEqualTo(windows + 2).isLessThan(updates / 4);
  }

  @Test
  void deletingANamespacesObjectsEmptiesItFromTheSnapshot() throws Exception {
    client.resource(namespace(NS)).create();
    client.resource(namespace("other")).create();
    client.resource(pod(NS, "web-0", NODE)).create();
    client.resource(pod(NS, "web-1", NODE)).create();
    client.resource(pod("other", "db-0", NODE)).create();
    client.resource(service(NS, "web")).create();
    client.resource(endpointSlice(NS, "web-abcde")).create();
    client.resource(networkPolicy(NS, "deny-all")).create();
    ClusterStateSource source = started();
    assertThat(firstWhileWatching(source).pods()).hasSize(3);

    // The mock does not cascade a namespace deletion as the namespace controller does.
    client.pods().inNamespace(NS).delete();
    client.services().inNamespace(NS).delete();
    client.discovery().v1().endpointSlices().inNamespace(NS).delete();
    client.network().networkPolicies().inNamespace(NS).delete();
    client.namespaces().withName(NS).delete();
    ClusterState state = awaitState(source, s -> s.services().isEmpty()
        && s.endpointSlices().isEmpty() && s.networkPolicies().isEmpty()
        && s.pods().size() == 1 && s.namespaces().size() == 1);

    assertThat(namespacedNames(state.pods())).containsExactly("other/db-0");
    assertThat(names(state.namespaces())).containsExactly("other");
  }

  @Test
  void localPodsAreThoseScheduledOnThisNode() throws Exception {
    client.resource(pod(NS, "here-1", NODE)).create();
    client.resource(pod("other", "here-0", NODE)).create();
    client.resource(pod(NS, "there-0", "node-b")).create();
    client.resource(pod(NS, "pending-0", null)).create();

    ClusterState state = first(started());

    assertThat(state.pods()).hasSize(4);
    assertThat(namespacedNames(state.localPods())).containsExactly("other/here-0", "shop/here-1");
    assertThat(namespacedNames(state.podsOnNode("node-b"))).containsExactly("shop/there-0");
  }

  @Test
  void listsAreSortedByNamespaceThenName() throws Exception {
    client.resource(service("b", "a")).create();
    client.resource(service("a", "b")).create();
    client.resource(service("a", "a")).create();
    client.resource(service("b", "b")).create();
    client.resource(node("z")).create();
    client.resource(node("m")).create();

    ClusterState state = first(started());

    assertThat(namespacedNames(state.services())).containsExactly("a/a", "a/b", "b/a", "b/b");
    assertThat(names(state.nodes())).containsExactly("m", "z");
  }

  @Test
  void snapshotListsCannotBeModified() throws Exception {
    client.resource(node(NODE)).create();

    ClusterState state = first(started());

    assertThat(state.nodes()).isUnmodifiable();
  }
}
