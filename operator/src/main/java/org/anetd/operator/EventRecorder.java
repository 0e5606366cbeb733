package org.anetd.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events about an object. The Event name is the object's name plus a hash of
 * (type, reason, message, object), so the same problem reported again bumps {@code count} and
 * {@code lastTimestamp} on one Event instead of adding another (Flink's {@code EventUtils}).
 * Events about cluster-scoped objects go to the {@code default} namespace, where
 * {@code kubectl describe} looks for them.
 */
public final class EventRecorder {
  public static final String COMPONENT = "anetd-operator";

  /** core/v1 Event types. */
  public enum Type {
    Normal,
    Warning
  }

  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private final Clock clock;

  public EventRecorder(Clock clock) {
    this.clock = clock;
  }

  /** Creates the Event, or bumps its count when the same one exists; returns what was written. */
  public Event record(
      KubernetesClient client, HasMetadata about, Type type, EventReason reason, String message) {
    String namespace = eventNamespace(about);
    String name = eventName(about, type, reason, message);
    String now = timestamp(clock.instant());
    Event existing = client.v1().events().inNamespace(namespace).withName(name).get();
    if (existing != null) {
      try {
        return bump(client, namespace, name, now);
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
          throw e;
        }
        // its time to live ran out between the read and the bump: written anew below
      }
    }
    Event event = new EventBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion(about.getApiVersion())
            .withKind(about.getKind())
            .withName(about.getMetadata().getName())
            .withNamespace(about.getMetadata().getNamespace())
            .withUid(about.getMetadata().getUid())
            .build())
        .withType(type.name())
        .withReason(reason.name())
        .withMessage(message)
        .withCount(1)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withNewSource().withComponent(COMPONENT).endSource()
        .withReportingComponent(COMPONENT)
        .build();
    try {
      return client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      return bump(client, namespace, name, now); // created concurrently: count this one too
    }
  }

  /**
   * As {@link #record}, but a failure (the API throttling Events, RBAC) is logged, not thrown:
   * a reconciler's status update must not wait on an Event.
   */
  public void recordOrLog(
      KubernetesClient client, HasMetadata about, Type type, EventReason reason, String message) {
    try {
      record(client, about, type, reason, message);
    } catch (KubernetesClientException e) {
      LOG.warn("could not write the {} Event about {} {}: {}", reason, about.getKind(),
          about.getMetadata().getName(), e.getMessage());
    }
  }

  private static Event bump(KubernetesClient client, String namespace, String name, String now) {
    return client.v1().events().inNamespace(namespace).withName(name).edit(e -> new EventBuilder(e)
        .withCount(e.getCount() == null ? 2 : e.getCount() + 1)
        .withLastTimestamp(now)
        .build());
  }

  /** The stable Event name for this (object, type, reason, message). */
  public static String eventName(
      HasMetadata about, Type type, EventReason reason, String message) {
    String key = String.join("\u0000", type.name(), reason.name(), message, about.getKind(),
        String.valueOf(about.getMetadata().getNamespace()), about.getMetadata().getName());
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(StandardCharsets.UTF_8));
      return about.getMetadata().getName() + "." + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always present", e);
    }
  }

  /** Where Events about this object live. */
  public static String eventNamespace(HasMetadata about) {
    String ns = about.getMetadata().getNamespace();
    return ns == null || ns.isEmpty() ? "default" : ns;
  }

  static String timestamp(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
