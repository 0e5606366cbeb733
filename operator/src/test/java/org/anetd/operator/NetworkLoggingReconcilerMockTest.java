package org.anetd.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.anetd.operator.api.NetworkLogging;
import org.anetd.operator.api.NetworkLoggingSpec;
import org.anetd.operator.api.NetworkLoggingStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The NetworkLogging reconciler run by a real java-operator-sdk Operator against fabric8's CRUD
 * mock API server (with the generated CRD registered, so {@code /status} is a subresource).
 */
@EnableKubernetesMockClient(crud = true)
class NetworkLoggingReconcilerMockTest {
  /** Written by crd-generator-maven-plugin into operator-api's classes. */
  static final String GENERATED_CRD = "/META-INF/fabric8/networkloggings.networking.gke.io-v1.yml";
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  KubernetesClient client;
  KubernetesMockServer server;
  Operator operator;

  @BeforeEach
  void startOperator() throws Exception {
    try (InputStream crd = getClass().getResourceAsStream(GENERATED_CRD)) {
      client.resource(client.getKubernetesSerialization()
          .unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    operator = new Operator(o -> OperatorMain.configure(o, false)
        .withKubernetesClient(client)
        .withCloseClientOnStop(false));
    operator.register(new NetworkLoggingReconciler(Clock.systemUTC()));
    operator.start();
  }

  @AfterEach
  void stopOperator() {
    operator.stop();
  }

  @Test
  void validNetworkLoggingBecomesReadyAndApplied() {
    NetworkLoggingSpec spec = NetworkLoggingSpec.of(true, true, true, false);
    client.resource(NetworkLogging.named("default", spec)).create();

    NetworkLoggingStatus status = awaitStatus("default", s -> s.isReady());

    assertThat(status.getAppliedSpec()).isEqualTo(spec);
    assertThat(status.getObservedGeneration()).isEqualTo(generation("default"));
    assertThat(eventsAbout("default")).extracting(Event::getReason).containsExactly("SpecApplied");
  }

  @Test
  void statusIsAppliedEvenWhenTheEventCannotBeWritten() {
    NetworkLoggingSpec spec = NetworkLoggingSpec.of(true, false, true, false);
    NetworkLogging nl = NetworkLogging.named("default", spec);
    String event = EventRecorder.eventName(nl, EventRecorder.Type.Normal,
        EventReason.SpecApplied, "in force: " + spec.normalizedCopy());
    server.expect().get().withPath("/api/v1/namespaces/default/events/" + event)
        .andReturn(403, "forbidden").always(); // e.g. RBAC without get on events

    client.resource(nl).create();

    assertThat(awaitStatus("default", NetworkLoggingStatus::isReady).getAppliedSpec())
        .isEqualTo(spec);
  }

  @Test
  void invalidEditGetsAWarningEventAndIsNotApplied() {
    NetworkLoggingSpec good = NetworkLoggingSpec.of(true, true, true, true);
    client.resource(NetworkLogging.named("default", good)).create();
    awaitStatus("default", NetworkLoggingStatus::isReady);

    client.resources(NetworkLogging.class).withName("default")
        .edit(nl -> {
          nl.getSpec().getCluster().getAllow().setLog(false); // delegate without log
          return nl;
        });

    NetworkLoggingStatus status = awaitStatus("default",
        s -> s.condition(NetworkLoggingStatus.DEGRADED).map(c -> "True".equals(c.getStatus()))
            .orElse(false));
    assertThat(status.getAppliedSpec()).isEqualTo(good);
    assertThat(status.getObservedGeneration()).isEqualTo(generation("default"));
    assertThat(status.condition(NetworkLoggingStatus.READY).map(Condition::getStatus))
        .contains("False");
    Event warning = awaitEvent("default", "ValidationError");
    assertThat(warning.getType()).isEqualTo("Warning");
    assertThat(warning.getMessage())
        .isEqualTo("spec.cluster.allow.delegate requires spec.cluster.allow.log: true");
    assertThat(warning.getInvolvedObject().getKind()).isEqualTo("NetworkLogging");
    assertThat(warning.getInvolvedObject().getName()).isEqualTo("default");
  }

  @Test
  void nonDefaultNameGetsAWarningAndNothingApplied() {
    client.resource(NetworkLogging.named("mine", NetworkLoggingSpec.of(true, false, true, false)))
        .create();

    NetworkLoggingStatus status = awaitStatus("mine",
        s -> s.condition(NetworkLoggingStatus.READY).isPresent());
    assertThat(status.isReady()).isFalse();
    assertThat(status.getAppliedSpec()).isNull();
    assertThat(awaitEvent("mine", "ValidationError").getMessage())
        .isEqualTo("metadata.name is \"mine\": only the NetworkLogging named default is used");
  }

  @Test
  void repeatedProblemBumpsOneEventsCount() {
    client.resource(NetworkLogging.named("mine", new NetworkLoggingSpec())).create();
    awaitEvent("mine", "ValidationError");

    awaitStatus("mine", s -> s.condition(NetworkLoggingStatus.READY).isPresent());

    // a spec change is a new generation: reconciled again, same problem, same Event. The edit
    // is retried on a 409, as kubectl would be, should the operator patch status in between.
    await().atMost(TIMEOUT).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(() -> client.resources(NetworkLogging.class).withName("mine").edit(nl -> {
          nl.setSpec(NetworkLoggingSpec.of(false, false, true, false));
          return nl;
        }) != null);

    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(eventsAbout("mine"))
        .singleElement()
        .satisfies(e -> assertThat(e.getCount()).isEqualTo(2)));
  }

  private long generation(String name) {
    return client.resources(NetworkLogging.class).withName(name).get().getMetadata()
        .getGeneration();
  }

  private NetworkLoggingStatus awaitStatus(
      String name, java.util.function.Predicate<NetworkLoggingStatus> done) {
    return await().atMost(TIMEOUT).until(() -> {
      NetworkLogging nl = client.resources(NetworkLogging.class).withName(name).get();
      return nl == null ? null : nl.getStatus();
    }, s -> s != null && done.test(s));
  }

  private Event awaitEvent(String name, String reason) {
    return await().atMost(TIMEOUT).until(
        () -> eventsAbout(name).stream().filter(e -> reason.equals(e.getReason())).findFirst()
            .orElse(null),
        e -> e != null);
  }

  private List<Event> eventsAbout(String name) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }
}
