package org.anetd.agent.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the healthCheckNodePorts of externalTrafficPolicy=Local Services the way kube-proxy
 * does, so cloud load balancers keep working unchanged: any request gets HTTP 200 with
 * {@code {"service":{"namespace":"ns","name":"n"},"localEndpoints":N}} when this node has ready
 * endpoints for the Service, and 503 with the same body when it has none (the load balancer then
 * sends that Service's traffic to other nodes).
 *
 * <p>{@link #update} opens and closes one listener per port to match {@link
 * DesiredServices#healthChecks()}; a changed count only swaps what the open listener answers.
 *
 * <p>Each listener reads and answers requests on a small pool of its own ({@link #THREADS}
 * threads, started on demand and ended when idle), never on the JDK server's single dispatcher
 * thread: there, one client that sends half a request line would hold every later probe of the
 * port until it hung up, and the cloud load balancer would take the node out of rotation. More
 * requests than the pool and its queue hold are refused (the connection is closed; the load
 * balancer probes again).
 */
public final class HealthCheckServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HealthCheckServer.class);

  /** Requests of one port read and answered at once; slow clients beyond them wait in the queue. */
  static final int THREADS = 4;
  private static final int QUEUE = 32;

  private final InetAddress bindAddress;
  private final Map<Integer, Listener> listeners = new TreeMap<>();
  /** Read by the listener threads, replaced by update(). */
  private final Map<Integer, HealthCheck> answers = new ConcurrentHashMap<>();

  /** @param bindAddress where listeners bind: the wildcard address on a node, loopback in tests */
  public HealthCheckServer(InetAddress bindAddress) {
    this.bindAddress = bindAddress;
  }

  /**
   * Makes the open listeners match {@code healthChecks}. A port that cannot be bound (something
   * else listens there) is reported as a {@link Reason#PortConflict} problem of its Service and
   * tried again on the next update; the other ports are unaffected.
   */
  public synchronized List<Problem> update(Map<Integer, HealthCheck> healthChecks) {
    for (Integer port : new ArrayList<>(listeners.keySet())) {
      if (!healthChecks.containsKey(port)) {
        listeners.remove(port).close();
        answers.remove(port);
        log.info("closed health check port {}", port);
      }
    }
    answers.putAll(healthChecks);
    List<Problem> problems = new ArrayList<>();
    for (Map.Entry<Integer, HealthCheck> check : new TreeMap<>(healthChecks).entrySet()) {
      int port = check.getKey();
      if (listeners.containsKey(port)) {
        continue;
      }
      try {
        listeners.put(port, listen(port));
        log.info("serving health check port {} for {}", port, check.getValue().service());
      } catch (IOException e) {
        answers.remove(port);
        problems.add(new Problem(check.getValue().service(), Reason.PortConflict,
            "cannot listen on healthCheckNodePort " + bindAddress.getHostAddress() + ":" + port
                + ": " + e.getMessage()));
      }
    }
    return problems;
  }

  /** The ports with an open listener. */
  public synchronized SortedSet<Integer> ports() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(listeners.keySet()));
  }

  @Override
  public synchronized void close() {
    listeners.values().forEach(Listener::close);
    listeners.clear();
    answers.clear();
  }

  private Listener listen(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
    server.createContext("/", exchange -> answer(exchange, port));
    AtomicInteger threads = new AtomicInteger();
    ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(QUEUE), r -> {
          Thread t = new Thread(r, "anetd-healthcheck-" + port + "-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        }); // full: AbortPolicy, and the server closes that connection
    executor.allowCoreThreadTimeOut(true);
    server.setExecutor(executor);
    server.start();
    return new Listener(server, executor);
  }

  /** One port's server and the pool that reads and answers its requests. */
  private record Listener(HttpServer server, ExecutorService executor) {
    void close() {
      server.stop(0); // closes the connections too, which ends reads blocked on them
      executor.shutdownNow();
    }
  }

  private void answer(HttpExchange exchange, int port) throws IOException {
    try (exchange) {
      HealthCheck check = answers.get(port);
      if (check == null) { // closing: the port is no longer desired
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      byte[] body = body(check).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      int status = check.localEndpoints() > 0 ? 200 : 503;
      if (exchange.getRequestMethod().equals("HEAD")) {
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** kube-proxy's health check body. */
  static String body(HealthCheck check) {
    return "{\"service\":{\"namespace\":" + jsonString(check.service().namespace())
        + ",\"name\":" + jsonString(check.service().name())
        + "},\"localEndpoints\":" + check.localEndpoints() + "}";
  }

  private static String jsonString(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
