package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports {@link Problem}s as Warning Events on the object concerned and counts them by
 * {@link Reason}.
 *
 * <p>Compilers report the same problem on every pass, so Events are deduplicated and
 * rate-limited: one Event per (reason, message, object, node), named by {@link EventNames}; a
 * repeat bumps its {@code count} and {@code lastTimestamp}. Each Event is written at most once per
 * {@code minWriteInterval}; repeats in between are counted locally and added by the next write
 * (the next repeat after the interval, or the periodic flush). Messages should therefore not carry
 * values that change from pass to pass.
 *
 * <p>Writes need get, create and patch on {@code events} (deploy/01-rbac-agent.yaml): an Event is
 * read back by name, created if missing, and a repeat is a merge patch of its count and
 * lastTimestamp.
 *
 * <p>{@link #record} never blocks and never throws: API writes run on one writer thread and their
 * failures are logged, with the unwritten count kept for the next attempt.
 */
public final class EventRecorder implements AutoCloseable {
  public static final Duration DEFAULT_MIN_WRITE_INTERVAL = Duration.ofSeconds(30);
  static final String COMPONENT = "anetd";
  /** Where kubectl looks for Events about cluster-scoped objects. */
  static final String CLUSTER_SCOPED_EVENT_NAMESPACE = "default";
  /** The limit client-go's recorder applies too; longer messages are cut. */
  static final int MAX_MESSAGE_LENGTH = 1024;

  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);

  /** Kinds whose uid we look up so that {@code kubectl describe} lists our Events. */
  private static final Map<String, Class<? extends HasMetadata>> KNOWN_KINDS = Map.of(
      "Service", Service.class,
      "EndpointSlice", EndpointSlice.class,
      "Pod", Pod.class,
      "Namespace", Namespace.class,
      "NetworkPolicy", NetworkPolicy.class,
      "Node", Node.class,
      "ConfigMap", ConfigMap.class);

  private final KubernetesClient client;
  private final String nodeName;
  private final Clock clock;
  private final Duration minWriteInterval;
  private final Executor writer;
  /** Null when the caller owns the writer (and drives {@link #flush}). */
  private final ScheduledExecutorService ownWriter;
  private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);
  private final ConcurrentHashMap<EventKey, Pending> pending = new ConcurrentHashMap<>();

  /** Writes on its own thread, at most once per 30 s per Event, flushing repeats periodically. */
  public EventRecorder(KubernetesClient client, String nodeName) {
    this(client, nodeName, Clock.systemUTC(), DEFAULT_MIN_WRITE_INTERVAL, ownWriterThread(), true);
  }

  /**
   * With a writer the caller provides and keeps: nothing is flushed periodically, so repeats that
   * are not followed by another after the interval wait for {@link #flush()}.
   */
  EventRecorder(KubernetesClient client, String nodeName, Clock clock, Duration minWriteInterval,
      Executor writer) {
    this(client, nodeName, clock, minWriteInterval, writer, false);
  }

  private EventRecorder(KubernetesClient client, String nodeName, Clock clock,
      Duration minWriteInterval, Executor writer, boolean ownsWriter) {
    this.client = Objects.requireNonNull(client, "client");
    this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
    this.clock = clock;
    this.minWriteInterval = minWriteInterval;
    this.writer = writer;
    for (Reason reason : Reason.values()) {
      counts.put(reason, new LongAdder());
    }
    if (ownsWriter) {
      this.ownWriter = (ScheduledExecutorService) writer;
      long periodMillis = Math.max(1, minWriteInterval.toMillis());
      ownWriter.scheduleWithFixedDelay(this::writeDue, periodMillis, periodMillis,
          TimeUnit.MILLISECONDS);
    } else {
      this.ownWriter = null;
    }
  }

  private static ScheduledExecutorService ownWriterThread() {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "anetd-event-writer");
      t.setDaemon(true);
      return t;
    });
  }

  /** Counts the problem and schedules its Event write if the Event's interval has passed. */
  public void record(Problem problem) {
    counts.get(problem.reason()).increment();
    EventKey key = new EventKey(problem.object(), problem.reason(), problem.message());
    Instant now = clock.instant();
    while (true) {
      Pending entry = pending.computeIfAbsent(key, k -> new Pending());
      synchronized (entry) {
        if (entry.retired) {
          continue; // writeDue dropped it between lookup and lock; take the fresh one
        }
        entry.unwritten++;
        if (!entry.claimIfDue(now, minWriteInterval)) {
          return;
        }
      }
      submit(key, entry);
      return;
    }
  }

  /** Problems recorded so far, by reason (every reason present, zero if never seen). */
  public Map<Reason, Long> counts() {
    Map<Reason, Long> copy = new EnumMap<>(Reason.class);
    counts.forEach((reason, adder) -> copy.put(reason, adder.sum()));
    return Map.copyOf(copy);
  }

  /** Writes every locally counted repeat now, regardless of the interval, and waits for it. */
  public void flush() {
    CompletableFuture.runAsync(() -> {
      Instant now = clock.instant();
      pending.forEach((key, entry) -> {
        boolean claimed;
        synchronized (entry) {
          claimed = entry.unwritten > 0 && entry.claim(now);
        }
        if (claimed) {
          write(key, entry);
        }
      });
    }, writer).join();
  }

  /** Flushes and stops the writer thread if this recorder owns one. */
  @Override
  public void close() {
    flush();
    if (ownWriter != null) {
      ownWriter.shutdown();
    }
  }

  private void submit(EventKey key, Pending entry) {
    try {
      writer.execute(() -> write(key, entry));
    } catch (RuntimeException e) {
      log.warn("Could not schedule the Event for {}: {}", key, e.toString());
      synchronized (entry) {
        entry.writing = false;
      }
    }
  }

  /** Periodic: writes repeats whose interval has passed and forgets quiet problems. */
  private void writeDue() {
    Instant now = clock.instant();
    pending.forEach((key, entry) -> {
      boolean claimed;
      synchronized (entry) {
        if (entry.unwritten == 0 && !entry.writing && entry.quietSince(now, minWriteInterval)) {
          // Nothing to add and nothing recent: forget it. A later repeat reads the Event back.
          entry.retired = true;
          pending.remove(key, entry);
          return;
        }
        claimed = entry.unwritten > 0 && entry.claimIfDue(now, minWriteInterval);
      }
      if (claimed) {
        write(key, entry);
      }
    });
  }

  /** Runs on the writer. Takes the entry's unwritten count, and gives it back on failure. */
  private void write(EventKey key, Pending entry) {
    long count;
    synchronized (entry) {
      count = entry.unwritten;
      entry.unwritten = 0;
    }
    try {
      upsert(key, count, clock.instant());
    } catch (RuntimeException e) {
      log.warn("Could not write the {} Event for {} ({} occurrences kept for the next attempt): {}",
          key.reason(), key.object(), count, e.toString());
      synchronized (entry) {
        entry.unwritten += count;
      }
    } finally {
      synchronized (entry) {
        entry.writing = false;
      }
    }
  }

  private void upsert(EventKey key, long count, Instant now) {
    ObjectRef object = key.object();
    String namespace = object.namespace().isEmpty()
        ? CLUSTER_SCOPED_EVENT_NAMESPACE : object.namespace();
    String name = EventNames.eventName(key.reason(), key.message(), object, nodeName);
    String timestamp = now.truncatedTo(ChronoUnit.SECONDS).toString();
    var events = client.v1().events().inNamespace(namespace);
    Event existing = events.withName(name).get();
    if (existing == null) {
      events.resource(new EventBuilder()
          .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
          .withInvolvedObject(involvedObject(object))
          .withType("Warning")
          .withReason(key.reason().name())
          .withMessage(truncate(key.message()))
          .withNewSource().withComponent(COMPONENT).withHost(nodeName).endSource()
          .withReportingComponent(COMPONENT)
          .withReportingInstance(nodeName)
          .withFirstTimestamp(timestamp)
          .withLastTimestamp(timestamp)
          .withCount(saturatedInt(count))
          .build()).create();
    } else {
      // A merge patch of the two fields: the RBAC grants get, create and patch on events, not
      // update, and a patch cannot undo another writer's change to the rest of the Event.
      long total = (existing.getCount() == null ? 1 : existing.getCount()) + count;
      events.withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"count\":" + saturatedInt(total) + ",\"lastTimestamp\":\"" + timestamp + "\"}");
    }
  }

  /** With apiVersion and uid where we can find them: kubectl describe matches Events by uid. */
  private ObjectReference involvedObject(ObjectRef object) {
    ObjectReferenceBuilder ref = new ObjectReferenceBuilder()
        .withKind(object.kind())
        .withName(object.name())
        .withNamespace(object.namespace().isEmpty() ? null : object.namespace());
    Class<? extends HasMetadata> type = KNOWN_KINDS.get(object.kind());
    if (type != null) {
      ref.withApiVersion(HasMetadata.getApiVersion(type));
      try {
        HasMetadata current = object.namespace().isEmpty()
            ? client.resources(type).withName(object.name()).get()
            : client.resources(type).inNamespace(object.namespace()).withName(object.name()).get();
        if (current != null) {
          ref.withUid(current.getMetadata().getUid());
        }
      } catch (RuntimeException e) {
        log.debug("No uid for {}: {}", object, e.toString());
      }
    }
    return ref.build();
  }

  private static String truncate(String message) {
    return message.length() <= MAX_MESSAGE_LENGTH
        ? message : message.substring(0, MAX_MESSAGE_LENGTH - 3) + "...";
  }

  private static int saturatedInt(long value) {
    return (int) Math.min(Integer.MAX_VALUE, value);
  }

  /** One Event's identity (the node is the same for every key of a recorder). */
  private record EventKey(ObjectRef object, Reason reason, String message) {}

  /** Local state of one Event: occurrences not yet written and when it was last written. */
  private static final class Pending {
    long unwritten;
    Instant lastWrite;
    boolean writing;
    boolean retired;

    /** Claims the write if none is running and the interval since the last one has passed. */
    boolean claimIfDue(Instant now, Duration interval) {
      boolean due = lastWrite == null || !now.isBefore(lastWrite.plus(interval));
      return due && claim(now);
    }

    boolean claim(Instant now) {
      if (writing) {
        return false;
      }
      writing = true;
      lastWrite = now;
      return true;
    }

    boolean quietSince(Instant now, Duration interval) {
      return lastWrite == null || !now.isBefore(lastWrite.plus(interval));
    }
  }
}
