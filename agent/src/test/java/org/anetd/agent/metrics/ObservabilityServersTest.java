package org.anetd.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ObservabilityServersTest {
  private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 0);
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metricsEndpointExportsMapFillAndDatapathCounters() throws Exception {
    AgentMetrics metrics = AgentMetrics.create();
    metrics.mapState("lb4_services", 16384, 65536);
    metrics.datapathCounters(() -> List.of(
        new AgentMetrics.DatapathCount("policy_denied", "ingress", 7, 700)));
    try (MetricsServer server = MetricsServer.start(metrics, LOCAL)) {
      String body = get(server.port(), "/metrics").body();

      assertThat(body).contains("anetd_bpf_map_pressure{map=\"lb4_services\"} 0.25")
          .contains("anetd_datapath_packets_total{direction=\"ingress\",reason=\"policy_denied\"} 7.0");
    }
  }

  @Test
  void aMetricsAddressThatCannotBeBoundIsCountedNotThrown() throws Exception {
    AgentMetrics metrics = AgentMetrics.create();
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      InetSocketAddress bind = new InetSocketAddress("127.0.0.1", taken.getLocalPort());

      assertThat(MetricsServer.startOrReport(metrics, bind)).isEmpty();
    }
    assertThat(metrics.problemCount(MetricsServer.UNAVAILABLE)).isEqualTo(1);
  }

  private static String scrape(AgentMetrics metrics) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new PrometheusTextFormatWriter(false).write(out, metrics.registry().scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void oneScrapeReadsTheDatapathCountersOnce() throws Exception {
    AgentMetrics metrics = AgentMetrics.create();
    AtomicInteger reads = new AtomicInteger();
    AtomicLong nanos = new AtomicLong();
    metrics.datapathCounters(() -> {
      int n = reads.incrementAndGet();
      return List.of(new AgentMetrics.DatapathCount("forwarded", "egress", n, 100L * n));
    }, nanos::get);

    String first = scrape(metrics);

    assertThat(reads).hasValue(1);
    assertThat(first).contains("anetd_datapath_packets_total{direction=\"egress\",reason=\"forwarded\"} 1.0")
        .contains("anetd_datapath_bytes_total{direction=\"egress\",reason=\"forwarded\"} 100.0");

    nanos.addAndGet(AgentMetrics.SCRAPE_SNAPSHOT_NANOS); // the next scrape reads again
    assertThat(scrape(metrics)).contains(
        "anetd_datapath_packets_total{direction=\"egress\",reason=\"forwarded\"} 2.0");
    assertThat(reads).hasValue(2);
  }

  @Test
  void readyzAnswers503WithTheReasonsUntilReady() throws Exception {
    AtomicReference<HealthServer.Status> status = new AtomicReference<>(
        new HealthServer.Status(List.of(), List.of("informers not synced: Pod")));
    try (HealthServer server = HealthServer.start(LOCAL, status::get, java.util.Map.of("/statusz", () -> "summary\n"))) {
      HttpResponse<String> notReady = get(server.port(), "/readyz");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("informers not synced: Pod");
      assertThat(get(server.port(), "/healthz").statusCode()).isEqualTo(200);

      status.set(HealthServer.Status.ok());

      assertThat(get(server.port(), "/readyz").statusCode()).isEqualTo(200);
      assertThat(get(server.port(), "/statusz").body()).isEqualTo("summary\n");
    }
  }

  @Test
  void aClientThatNeverFinishesItsRequestDoesNotHoldTheProbes() throws Exception {
    try (HealthServer server = HealthServer.start(LOCAL, HealthServer.Status::ok, java.util.Map.of());
        java.net.Socket slow = new java.net.Socket("127.0.0.1", server.port())) {
      slow.getOutputStream().write("GET /heal".getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush(); // on loopback: at the server before the probe connects

      HttpResponse<String> probe = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
          .timeout(java.time.Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());

      assertThat(probe.statusCode()).isEqualTo(200);
    }
  }
}
