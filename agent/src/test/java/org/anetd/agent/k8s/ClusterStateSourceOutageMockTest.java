package org.anetd.agent.k8s;

import static org.anetd.agent.k8s.K8sObjects.names;
import static org.anetd.agent.k8s.K8sObjects.node;
import static org.anetd.agent.k8s.Snapshots.TIMEOUT;
import static org.anetd.agent.k8s.Snapshots.awaitState;
import static org.anetd.agent.k8s.Snapshots.firstWhileWatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API server goes away and comes back. {@code @EnableKubernetesMockClient} cannot restart its
 * server, so this test runs the same CRUD mock by hand: a second server on the same port shares
 * the first one's dispatcher, hence its objects, like an API server restarting over the same etcd.
 */
class ClusterStateSourceOutageMockTest {
  private final Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
  private final KubernetesMixedDispatcher storage = new KubernetesMixedDispatcher(responses);
  private KubernetesMockServer server;
  private KubernetesClient client;
  private ClusterStateSource source;

  @BeforeEach
  void startApiServer() {
    server = newServer();
    server.init();
    client = server.createClient(new FastReconnect());
    source = new ClusterStateSource(client, "node-a").start();
  }

  @AfterEach
  void stopEverything() {
    source.close();
    client.close();
    server.destroy();
  }

  private KubernetesMockServer newServer() {
    return new KubernetesMockServer(new Context(), new MockWebServer(), responses, storage, false);
  }

  @Test
  void whileTheApiServerIsDownHealthIsNotReadyAndTheLastSnapshotStays() throws Exception {
    client.resource(node("node-a")).create();
    ClusterState last = awaitState(source, s -> names(s.nodes()).contains("node-a"));

    server.destroy();

    await().atMost(TIMEOUT).untilAsserted(() -> {
      ClusterStateSource.Health health = source.health();
      assertThat(health.notReadyKinds()).contains("Node", "Pod", "NetworkPolicy");
      assertThat(health.message()).contains("Node informer not watching");
    });
    assertThat(source.latest()).contains(last);
    assertThat(source.awaitNext(last.version(), Duration.ofMillis(200))).isEmpty();
  }

  @Test
  void whenTheApiServerReturnsInformersResumeAndSnapshotsFollow() throws Exception {
    ClusterState before = firstWhileWatching(source);
    int port = server.getPort();
    server.destroy();
    await().atMost(TIMEOUT).until(() -> !source.health().ready());

    server = newServer();
    server.init(InetAddress.getByName("localhost"), port);
    await().atMost(TIMEOUT).until(() -> source.health().ready());
    client.resource(node("node-b")).create();

    ClusterState after = awaitState(source, s -> names(s.nodes()).contains("node-b"));
    assertThat(after.version()).isGreaterThan(before.version());
  }
}
