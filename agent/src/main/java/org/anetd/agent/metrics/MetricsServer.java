package org.anetd.agent.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** Serves /metrics in the Prometheus text format (default :9962, as Cilium's agent). */
public final class MetricsServer implements AutoCloseable {
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

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
