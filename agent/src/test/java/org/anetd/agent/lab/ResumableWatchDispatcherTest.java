package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lab API server's watches resume like a real API server's after a deletion. */
class ResumableWatchDispatcherTest {
  private EmbeddedApiServer server;
  private KubernetesClient client;

  @BeforeEach
  void up() {
    server = EmbeddedApiServer.start(0);
    client = server.client();
  }

  @AfterEach
  void down() {
    client.close();
    server.close();
  }

  private void create(String name) {
    client.network().networkPolicies().inNamespace("x").resource(new NetworkPolicyBuilder()
        .withNewMetadata().withName(name).withNamespace("x").endMetadata().withNewSpec()
        .withNewPodSelector().endPodSelector().endSpec().build()).create();
  }

  private String listVersion() {
    return client.network().networkPolicies().inAnyNamespace().list().getMetadata()
        .getResourceVersion();
  }

  /** What a watcher is told, in order: "ADDED a", "DELETED a", "CLOSED 410", "CLOSED". */
  private Watch watchFrom(String resourceVersion, BlockingQueue<String> seen) {
    return client.network().networkPolicies().inAnyNamespace().watch(new ListOptionsBuilder()
        .withResourceVersion(resourceVersion).build(), new Watcher<>() {
          @Override
          public void eventReceived(Action action, NetworkPolicy p) {
            seen.add(action + " " + p.getMetadata().getName());
          }

          @Override
          public void onClose(WatcherException e) {
            seen.add("CLOSED " + e.asClientException().getCode());
          }

          @Override
          public void onClose() {
            seen.add("CLOSED");
          }
        });
  }

  @Test
  void aWatchResumedFromBeforeADeletionExpiresWith410() throws Exception {
    create("a");
    create("b");
    String before = listVersion();
    client.network().networkPolicies().inNamespace("x").withName("a").delete();

    BlockingQueue<String> seen = new LinkedBlockingQueue<>();
    try (Watch w = watchFrom(before, seen)) {
      String event;
      do {
        event = seen.poll(10, TimeUnit.SECONDS);
      } while (event != null && event.startsWith("ADDED"));
      assertThat(event).as("the watcher is told its version is gone, so it relists")
          .isEqualTo("CLOSED 410");
    }
  }

  @Test
  void aWatchResumedAfterTheLastDeletionStaysOpenAndSeesTheNextOne() throws Exception {
    create("a");
    create("b");
    client.network().networkPolicies().inNamespace("x").withName("a").delete();
    String after = listVersion();

    BlockingQueue<String> seen = new LinkedBlockingQueue<>();
    try (Watch w = watchFrom(after, seen)) {
      assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("ADDED b");
      client.network().networkPolicies().inNamespace("x").withName("b").delete();
      assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("DELETED b");
    }
  }

  /**
   * fabric8 informers restart their watch every 5 to 10 minutes; here every 1 to 2 seconds (the
   * Reflector's minimum, set by reflection), while policies come and go. The informer must end up
   * holding exactly what the server holds: no deletion lost across a restart.
   */
  @Test
  void anInformerKeepsNoDeletedObjectAcrossWatchRestarts() throws Exception {
    SharedIndexInformer<NetworkPolicy> informer =
        client.network().networkPolicies().inAnyNamespace().runnableInformer(0);
    Field reflectorField = informer.getClass().getDeclaredField("reflector");
    reflectorField.setAccessible(true);
    Object reflector = reflectorField.get(informer);
    reflector.getClass().getMethod("setMinTimeout", long.class).invoke(reflector, 1L);
    informer.start().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
      for (int i = 0; System.nanoTime() < end; i++) {
        create("p" + i);
        client.network().networkPolicies().inNamespace("x").withName("p" + i).delete();
      }
      create("kept");
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
          informer.getStore().list().stream().map(p -> p.getMetadata().getName()))
          .containsExactly("kept"));
    } finally {
      informer.close();
    }
  }

  @Test
  void resourceVersionOfAWatchPath() {
    assertThat(ResumableWatchDispatcher.resumedFrom(
        "/api/v1/pods?allowWatchBookmarks=true&resourceVersion=42&timeoutSeconds=600&watch=true"))
        .isEqualTo(OptionalLong.of(42));
    assertThat(ResumableWatchDispatcher.resumedFrom("/api/v1/pods?watch=true&resourceVersion=7"))
        .isEqualTo(OptionalLong.of(7));
    assertThat(ResumableWatchDispatcher.resumedFrom("/api/v1/pods?resourceVersion=0&watch=true"))
        .isEmpty();
    assertThat(ResumableWatchDispatcher.resumedFrom("/api/v1/pods?watch=true")).isEmpty();
  }
}
