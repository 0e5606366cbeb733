package org.anetd.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The advisory cilium-config reconciler against fabric8's CRUD mock API server. */
@EnableKubernetesMockClient(crud = true)
class CiliumConfigReconcilerMockTest {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  KubernetesClient client;
  Operator operator;

  @BeforeEach
  void startOperator() {
    operator = new Operator(o -> OperatorMain.configure(o, false)
        .withKubernetesClient(client)
        .withCloseClientOnStop(false));
    operator.register(new CiliumConfigReconciler(Clock.systemUTC()));
    operator.start();
  }

  @AfterEach
  void stopOperator() {
    operator.stop();
  }

  @Test
  void badValueGetsAWarningEventAndTheConfigMapIsLeftAlone() {
    ConfigMap created = client.resource(configMap("cilium-config", Map.of(
        "node-port-range", "32767-30000", "debug", "false", "bpf-ct-global-tcp-max", "524288")))
        .create();

    Event warning = await().atMost(TIMEOUT).until(() -> events("cilium-config"), e -> !e.isEmpty())
        .get(0);
    assertThat(warning.getType()).isEqualTo("Warning");
    assertThat(warning.getReason()).isEqualTo("InvalidConfigValue");
    assertThat(warning.getMessage()).startsWith(
        "node-port-range: \"32767-30000\": the low port must be below the high port");
    assertThat(warning.getInvolvedObject().getKind()).isEqualTo("ConfigMap");
    assertThat(events("cilium-config")).hasSize(1);
    ConfigMap now = client.configMaps().inNamespace("kube-system").withName("cilium-config").get();
    assertThat(now.getMetadata().getResourceVersion())
        .isEqualTo(created.getMetadata().getResourceVersion());
    assertThat(now.getData()).isEqualTo(created.getData());
  }

  @Test
  void fixingTheValueAddsNoEventAndOtherConfigMapsAreIgnored() {
    // reconciled (the mock ignores the field selector) but never reported: wrong name
    client.resource(configMap("other", Map.of("debug", "maybe"))).create();
    client.resource(configMap("cilium-config", Map.of("debug", "maybe"))).create();
    await().atMost(TIMEOUT).until(() -> events("cilium-config"), e -> e.size() == 1);

    client.configMaps().inNamespace("kube-system").withName("cilium-config")
        .edit(cm -> new ConfigMapBuilder(cm).addToData("debug", "true").build());
    // a later, different bad value proves the fixed one was reconciled without an Event
    client.configMaps().inNamespace("kube-system").withName("cilium-config")
        .edit(cm -> new ConfigMapBuilder(cm).addToData("enable-policy", "sometimes").build());

    List<Event> events = await().atMost(TIMEOUT)
        .until(() -> events("cilium-config"), e -> e.size() == 2);
    assertThat(events).extracting(Event::getMessage)
        .anySatisfy(m -> assertThat(m).startsWith("debug: \"maybe\""))
        .anySatisfy(m -> assertThat(m).startsWith("enable-policy: \"sometimes\""));
    assertThat(events).allSatisfy(e -> assertThat(e.getCount()).isEqualTo(1));
    assertThat(events("other")).isEmpty();
  }

  private static ConfigMap configMap(String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata().withName(name).withNamespace("kube-system").endMetadata()
        .withData(data)
        .build();
  }

  private List<Event> events(String about) {
    return client.v1().events().inNamespace("kube-system").list().getItems().stream()
        .filter(e -> about.equals(e.getInvolvedObject().getName()))
        .toList();
  }
}
