package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's CRUD dispatcher plus what a real API server does for a watch that resumes from a
 * resource version: if an object was deleted since then, the watch ends at once with a 410 Gone
 * ERROR event, so the client relists instead of keeping the deleted object forever.
 *
 * <p>The CRUD dispatcher keeps no history: a watch only sees what happens after it opens, plus an
 * ADDED event per object that exists. That replays creations and updates a client missed, never
 * deletions. Informers restart their watches every 5 to 10 minutes (fabric8's Reflector), so a
 * deletion that lands while a watch reconnects would otherwise stay in the agent's cache, and the
 * lab would keep enforcing a policy that no longer exists.
 */
final class ResumableWatchDispatcher extends KubernetesCrudDispatcher {
  private static final Pattern RESOURCE_VERSION =
      Pattern.compile("[?&]resourceVersion=([0-9]+)(?:&|$)");

  /** The resource version the last deletion was given (the counter is bumped for it). */
  private final AtomicLong lastDeletion = new AtomicLong();

  /** Every change of the store passes here; {@code newJson} null means a deletion. */
  @Override
  public void processEvent(String path, AttributeSet pathAttributes, AttributeSet oldAttributes,
      GenericKubernetesResource resource, String newJson) {
    if (newJson == null && oldAttributes != null && map.containsKey(oldAttributes)) {
      lastDeletion.accumulateAndGet(requestResourceVersion(), Math::max);
    }
    super.processEvent(path, pathAttributes, oldAttributes, resource, newJson);
  }

  @Override
  public MockResponse handleWatch(String path) {
    MockResponse response = super.handleWatch(path);
    WebSocketListener registers = response.getWebSocketListener();
    OptionalLong from = resumedFrom(path);
    if (registers == null || from.isEmpty()) {
      return response;
    }
    return response.withWebSocketUpgrade(new ExpireIfDeletedSince(registers, from.getAsLong()));
  }

  /** The resource version a watch resumes from; empty for "any" (absent, empty or 0). */
  static OptionalLong resumedFrom(String path) {
    Matcher m = RESOURCE_VERSION.matcher(path);
    if (!m.find()) {
      return OptionalLong.empty();
    }
    long rv = Long.parseLong(m.group(1));
    return rv == 0 ? OptionalLong.empty() : OptionalLong.of(rv);
  }

  /** The ERROR event a real API server sends to a watch whose resource version is too old. */
  static String expiredEvent(long from) {
    return "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
        + "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: " + from
        + "\",\"reason\":\"Expired\",\"code\":410}}";
  }

  /**
   * Lets the CRUD dispatcher register the watch (from then on it sees every deletion), then checks
   * whether a deletion happened since {@code from}, which the watch may have missed.
   */
  private final class ExpireIfDeletedSince extends WebSocketListener {
    private final WebSocketListener registers;
    private final long from;

    ExpireIfDeletedSince(WebSocketListener registers, long from) {
      this.registers = registers;
      this.from = from;
    }

    @Override
    public void onBeforeAccept(WebSocket ws, Response response) {
      registers.onBeforeAccept(ws, response);
    }

    @Override
    public void onOpen(WebSocket ws, Response response) {
      registers.onOpen(ws, response);
      if (lastDeletion.get() > from) {
        ws.send(expiredEvent(from));
        ws.close(1000, "resource version expired");
      }
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      registers.onMessage(ws, text);
    }

    @Override
    public void onMessage(WebSocket ws, ByteString bytes) {
      registers.onMessage(ws, bytes);
    }

    @Override
    public void onMessage(WebSocket ws, byte[] bytes) {
      registers.onMessage(ws, bytes);
    }

    @Override
    public void onClosing(WebSocket ws, int code, String reason) {
      registers.onClosing(ws, code, reason);
    }

    @Override
    public void onClosed(WebSocket ws, int code, String reason) {
      registers.onClosed(ws, code, reason);
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, Response response) {
      registers.onFailure(ws, t, response);
    }
  }
}
