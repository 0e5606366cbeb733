package org.anetd.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ObservabilityServersTest {
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
    try (MetricsServer server = MetricsServer.start(metrics, "127.0.0.1:0")) {
      String body = get(server.port(), "/metrics").body();

      assertThat(body).contains("anetd_bpf_map_pressure{map=\"lb4_services\"} 0.25")
          .contains("anetd_datapath_packets_total{direction=\"ingress\",reason=\"policy_denied\"} 7.0");
    }
  }

  @Test
  void readyzAnswers503WithTheReasonsUntilReady() throws Exception {
    AtomicReference<HealthServer.Status> status = new AtomicReference<>(
        new HealthServer.Status(List.of(), List.of("informers not synced: Pod")));
    try (HealthServer server = HealthServer.start("127.0.0.1:0", status::get)) {
      HttpResponse<String> notReady = get(server.port(), "/readyz");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("informers not synced: Pod");
      assertThat(get(server.port(), "/healthz").statusCode()).isEqualTo(200);

      status.set(HealthServer.Status.ok());

      assertThat(get(server.port(), "/readyz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void listenAddressesAreParsedOrRejectedClearly() {
    assertThat(Addresses.parse(":9962").getPort()).isEqualTo(9962);
    assertThat(Addresses.parse("127.0.0.1:9879").getHostString()).isEqualTo("127.0.0.1");
    assertThatThrownBy(() -> Addresses.parse("9962")).hasMessageContaining("has no port");
    assertThatThrownBy(() -> Addresses.parse(":99999")).hasMessageContaining("out of range");
  }
}
