package org.anetd.agent.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Serves /metrics in the Prometheus text format (default :9962, as Cilium's agent). */
public final class MetricsServer implements AutoCloseable {
  /** The {@code anetd_problems_total} reason of a metrics server that could not start. */
  public static final String UNAVAILABLE = "MetricsServerUnavailable";
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

  private final HTTPServer server;

  private MetricsServer(HTTPServer server) {
    this.server = server;
  }

  public static MetricsServer start(AgentMetrics metrics, InetSocketAddress bind) {
    try {
      HTTPServer server = HTTPServer.builder()
          .hostname(bind.getHostString())
          .port(bind.getPort())
          .registry(metrics.registry())
          .buildAndStart();
      return new MetricsServer(server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve metrics on " + bind + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts the server, or, when it cannot (the address is not on this node, the port is taken),
   * logs an error, counts it as {@link #UNAVAILABLE} and returns empty: metrics are not worth a
   * crash-looping agent.
   */
  public static Optional<MetricsServer> startOrReport(AgentMetrics metrics,
      InetSocketAddress bind) {
    try {
      return Optional.of(start(metrics, bind));
    } catch (RuntimeException e) {
      LOG.error("prometheus-serve-addr: {}; the agent runs without its metrics server",
          e.getMessage());
      metrics.problem(UNAVAILABLE);
      return Optional.empty();
    }
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
