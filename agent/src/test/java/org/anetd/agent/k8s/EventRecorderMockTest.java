package org.anetd.agent.k8s;

import static org.anetd.agent.k8s.K8sObjects.node;
import static org.anetd.agent.k8s.K8sObjects.pod;
import static org.anetd.agent.k8s.Snapshots.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Problems to Kubernetes Events, against fabric8's CRUD mock API server. */
@EnableKubernetesMockClient(crud = true)
class EventRecorderMockTest {
  private static final String NODE = "node-a";
  private static final ObjectRef WEB = new ObjectRef("Pod", "shop", "web-0");
  private static final Problem BAD_PORT =
      new Problem(WEB, Reason.UnknownPortName, "targetPort \"http\" is not a container port");
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  KubernetesClient client;
  KubernetesMockServer server;
  private final MutableClock clock = new MutableClock(T0);

  /** Writes inline on the calling thread, with a clock the test moves. */
  private EventRecorder inlineRecorder(Duration minWriteInterval) {
    return new EventRecorder(client, NODE, clock, minWriteInterval, Runnable::run);
  }

  private List<Event> events(String namespace) {
    return client.v1().events().inNamespace(namespace).list().getItems();
  }

  private Event onlyEvent(String namespace) {
    assertThat(events(namespace)).hasSize(1);
    return events(namespace).get(0);
  }

  @Test
  void problemBecomesAWarningEventOnTheObject() {
    Pod web = client.resource(pod("shop", "web-0", NODE)).create();
    try (EventRecorder recorder = new EventRecorder(client, NODE)) {
      recorder.record(BAD_PORT);

      await().atMost(TIMEOUT).until(() -> events("shop").size() == 1);
    }
    Event event = onlyEvent("shop");

    assertThat(event.getType()).isEqualTo("Warning");
    assertThat(event.getReason()).isEqualTo("UnknownPortName");
    assertThat(event.getMessage()).isEqualTo(BAD_PORT.message());
    assertThat(event.getCount()).isEqualTo(1);
    assertThat(event.getMetadata().getName())
        .isEqualTo(EventNames.eventName(Reason.UnknownPortName, BAD_PORT.message(), WEB, NODE));
    assertThat(event.getInvolvedObject().getKind()).isEqualTo("Pod");
    assertThat(event.getInvolvedObject().getNamespace()).isEqualTo("shop");
    assertThat(event.getInvolvedObject().getName()).isEqualTo("web-0");
    assertThat(event.getInvolvedObject().getApiVersion()).isEqualTo("v1");
    assertThat(event.getInvolvedObject().getUid()).isEqualTo(web.getMetadata().getUid());
    assertThat(event.getSource().getComponent()).isEqualTo("anetd");
    assertThat(event.getSource().getHost()).isEqualTo(NODE);
    assertThat(event.getReportingInstance()).isEqualTo(NODE);
  }

  @Test
  void repeatBumpsCountAndLastTimestampOfTheSameEvent() {
    EventRecorder recorder = inlineRecorder(Duration.ZERO);
    recorder.record(BAD_PORT);
    clock.advance(Duration.ofMinutes(1));

    recorder.record(BAD_PORT);

    Event event = onlyEvent("shop");
    assertThat(event.getCount()).isEqualTo(2);
    assertThat(event.getFirstTimestamp()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(event.getLastTimestamp()).isEqualTo("2026-01-01T10:01:00Z");
  }

  @Test
  void repeatIsWrittenAsAPatchNeverAPutWhichTheAgentIsNotGranted() throws InterruptedException {
    EventRecorder recorder = inlineRecorder(Duration.ZERO);
    recorder.record(BAD_PORT);
    clock.advance(Duration.ofMinutes(1));

    recorder.record(BAD_PORT);

    assertThat(onlyEvent("shop").getCount()).isEqualTo(2);
    List<String> methods = new ArrayList<>();
    for (RecordedRequest r; (r = server.takeRequest(0, TimeUnit.SECONDS)) != null; ) {
      if (r.getPath().startsWith("/api/v1/namespaces/shop/events")) {
        methods.add(r.getMethod());
      }
    }
    assertThat(methods).doesNotContain("PUT")
        .containsSubsequence("GET", "POST", "GET", "PATCH");
  }

  @Test
  void distinctReasonsGiveDistinctEvents() {
    EventRecorder recorder = inlineRecorder(Duration.ZERO);

    recorder.record(BAD_PORT);
    recorder.record(new Problem(WEB, Reason.InvalidPort, BAD_PORT.message()));

    assertThat(events("shop")).extracting(Event::getReason)
        .containsExactlyInAnyOrder("UnknownPortName", "InvalidPort");
  }

  @Test
  void repeatsWithinTheIntervalAreCountedLocallyAndAddedByTheNextWrite() {
    EventRecorder recorder = inlineRecorder(Duration.ofSeconds(30));
    for (int i = 0; i < 5; i++) {
      recorder.record(BAD_PORT);
    }
    assertThat(onlyEvent("shop").getCount()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(30));
    recorder.record(BAD_PORT);

    assertThat(onlyEvent("shop").getCount()).isEqualTo(6);
  }

  @Test
  void flushWritesRepeatsBeforeTheIntervalHasPassed() {
    EventRecorder recorder = inlineRecorder(Duration.ofSeconds(30));
    recorder.record(BAD_PORT);
    recorder.record(BAD_PORT);
    recorder.record(BAD_PORT);

    recorder.flush();

    assertThat(onlyEvent("shop").getCount()).isEqualTo(3);
  }

  @Test
  void aRestartedAgentBumpsTheEventItsPredecessorCreated() {
    inlineRecorder(Duration.ZERO).record(BAD_PORT);

    inlineRecorder(Duration.ZERO).record(BAD_PORT);

    assertThat(onlyEvent("shop").getCount()).isEqualTo(2);
  }

  @Test
  void clusterScopedObjectsGetTheirEventsInTheDefaultNamespace() {
    client.resource(node(NODE)).create();
    ObjectRef nodeRef = new ObjectRef("Node", "", NODE);

    inlineRecorder(Duration.ZERO).record(new Problem(nodeRef, Reason.MapFull, "lb4_services"));

    Event event = onlyEvent("default");
    assertThat(event.getInvolvedObject().getKind()).isEqualTo("Node");
    assertThat(event.getInvolvedObject().getNamespace()).isNull();
    assertThat(event.getInvolvedObject().getUid()).isNotBlank();
  }

  @Test
  void countsAreKeptPerReasonWithEveryReasonPresent() {
    EventRecorder recorder = inlineRecorder(Duration.ofSeconds(30));

    recorder.record(BAD_PORT);
    recorder.record(BAD_PORT);
    recorder.record(new Problem(WEB, Reason.InvalidCidr, "10.0.0.0/33"));

    assertThat(recorder.counts())
        .containsEntry(Reason.UnknownPortName, 2L)
        .containsEntry(Reason.InvalidCidr, 1L)
        .containsEntry(Reason.MapFull, 0L)
        .hasSize(Reason.values().length);
  }

  @Test
  void writeFailuresAreNotThrownAndTheCountIsKeptForTheNextWrite() {
    EventRecorder recorder = inlineRecorder(Duration.ZERO);
    server.expect().get()
        .withPath("/api/v1/namespaces/shop/events/"
            + EventNames.eventName(Reason.UnknownPortName, BAD_PORT.message(), WEB, NODE))
        .andReturn(403, "events is forbidden").always();

    assertThatCode(() -> {
      recorder.record(BAD_PORT);
      recorder.record(BAD_PORT);
    }).doesNotThrowAnyException();
    assertThat(events("shop")).isEmpty();

    server.clearExpectations();
    recorder.record(BAD_PORT);

    assertThat(onlyEvent("shop").getCount()).isEqualTo(3);
    assertThat(recorder.counts()).containsEntry(Reason.UnknownPortName, 3L);
  }

  /** A clock the test moves by hand. */
  private static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant instant() {
      return now;
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
