package org.anetd.agent.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * /healthz (liveness) and /readyz (readiness) on :9879. Each answers 200 "ok" or 503 with the
 * reasons, one per line, so `kubectl describe pod` shows why a probe failed. Further pages
 * (/statusz, /endpointz, /policyz) answer what `anetd status`, `anetd endpoint list` and
 * `anetd policy get` print.
 */
public final class HealthServer implements AutoCloseable {
  /** Health now: the reasons it is not live / not ready (empty = fine). */
  public record Status(List<String> notLive, List<String> notReady) {
    public static Status ok() {
      return new Status(List.of(), List.of());
    }
  }

  /** Threads that read and answer requests, and connections that may wait for one. */
  private static final int THREADS = 4;
  private static final int QUEUE = 32;

  private final HttpServer server;
  private final ExecutorService executor;

  private HealthServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * @param pages further read-only text pages by path (e.g. /statusz for `anetd status`)
   */
  public static HealthServer start(InetSocketAddress address, Supplier<Status> status,
      Map<String, Supplier<String>> pages) {
    try {
      HttpServer server = HttpServer.create(address, 16);
      server.createContext("/healthz", ex -> answer(ex, status.get().notLive()));
      server.createContext("/readyz", ex -> answer(ex, status.get().notReady()));
      pages.forEach((path, page) -> server.createContext(path, ex -> text(ex, 200, page.get())));
      // a pool, not the dispatcher thread: the port listens on every node address, and one
      // client that never finishes its request would otherwise fail every probe until kubelet
      // restarts the agent
      AtomicInteger threads = new AtomicInteger();
      ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "anetd-health-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
          }); // full: AbortPolicy, and the server closes that connection
      executor.allowCoreThreadTimeOut(true);
      server.setExecutor(executor);
      server.start();
      return new HealthServer(server, executor);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve health on " + address + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void answer(HttpExchange ex, List<String> problems) throws IOException {
    text(ex, problems.isEmpty() ? 200 : 503,
        problems.isEmpty() ? "ok\n" : String.join("\n", problems) + "\n");
  }

  private static void text(HttpExchange ex, int code, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(code, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0); // closes the connections too, which ends reads blocked on them
    executor.shutdownNow();
  }
}
