package org.anetd.agent.k8s;

import static org.anetd.agent.k8s.Snapshots.TIMEOUT;
import static org.anetd.agent.k8s.Snapshots.first;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link ClusterStateSource#health()} reports, against fabric8's CRUD mock API server. */
@EnableKubernetesMockClient(crud = true, kubernetesClientBuilderCustomizer = FastReconnect.class)
class ClusterStateSourceHealthMockTest {
  private static final String[] ALL_KINDS =
      {"Service", "EndpointSlice", "Pod", "Namespace", "NetworkPolicy", "Node"};

  KubernetesClient client;
  KubernetesMockServer server;
  private ClusterStateSource source;

  @AfterEach
  void closeSource() {
    if (source != null) {
      source.close();
    }
  }

  @Test
  void notReadyBeforeStartNamingEveryKind() {
    source = new ClusterStateSource(client, "node-a");

    ClusterStateSource.Health health = source.health();

    assertThat(health.ready()).isFalse();
    assertThat(health.notReadyKinds()).containsExactly(ALL_KINDS);
    assertThat(health.message()).contains("Pod informer not synced");
  }

  @Test
  void readyOnceEveryInformerSyncedAndWatches() {
    source = new ClusterStateSource(client, "node-a").start();

    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(source.health())
        .isEqualTo(new ClusterStateSource.Health(true, List.of(),
            "all 6 informers synced and watching")));
  }

  @Test
  void failingListNamesItsKindAndTheError() {
    server.expect().get().withPath("/api/v1/nodes?resourceVersion=0")
        .andReturn(403, "nodes is forbidden").always();
    source = new ClusterStateSource(client, "node-a").start();

    await().atMost(TIMEOUT).untilAsserted(() -> {
      ClusterStateSource.Health health = source.health();
      assertThat(health.ready()).isFalse();
      assertThat(health.notReadyKinds()).containsExactly("Node");
      assertThat(health.message()).startsWith("Node informer not synced: ").contains("HTTP 403");
    });
  }

  @Test
  void closingTheClientStopsEveryInformerAndHealthSaysSo() throws Exception {
    source = new ClusterStateSource(client, "node-a").start();
    ClusterState last = first(source);

    client.close();

    // An informer whose watch was between reconnects when the client closed raises no error, so
    // fabric8 never stops it: health names it "not watching" rather than "stopped". Either way
    // every kind is named and the source is not ready.
    await().atMost(TIMEOUT).untilAsserted(() -> {
      ClusterStateSource.Health health = source.health();
      assertThat(health.notReadyKinds()).containsExactly(ALL_KINDS);
      for (String kind : ALL_KINDS) {
        assertThat(health.message()).containsAnyOf(kind + " informer stopped",
            kind + " informer not watching");
      }
      assertThat(health.message()).contains("informer stopped");
    });
    assertThat(source.latest()).contains(last);
  }

  @Test
  void closingTheSourceStopsEveryInformer() throws Exception {
    source = new ClusterStateSource(client, "node-a").start();
    first(source);

    source.close();

    assertThat(source.health().notReadyKinds()).containsExactly(ALL_KINDS);
    assertThat(source.health().message()).contains("Service informer stopped");
  }
}
