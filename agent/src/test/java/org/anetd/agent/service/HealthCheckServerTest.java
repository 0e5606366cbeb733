package org.anetd.agent.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthCheckServerTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final HealthCheckServer server = new HealthCheckServer(LOOPBACK);
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void close() {
    server.close();
  }

  @ParameterizedTest(name = "{0} local endpoints -> HTTP {1}")
  @CsvSource({"3, 200", "1, 200", "0, 503"})
  void answersLikeKubeProxyWithTheLocalEndpointCount(int localEndpoints, int status)
      throws Exception {
    int port = freePort();
    server.update(Map.of(port, check("shop", "web", localEndpoints)));

    HttpResponse<String> response = get(port, "/healthz");

    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).isEqualTo(
        "{\"service\":{\"namespace\":\"shop\",\"name\":\"web\"},\"localEndpoints\":"
            + localEndpoints + "}");
  }

  @Test
  void updateOpensNewPortsClosesRemovedOnesAndChangesCountsInPlace() throws Exception {
    int kept = freePort();
    int removed = freePort();
    int added = freePort();
    server.update(Map.of(kept, check("ns", "kept", 1), removed, check("ns", "removed", 1)));

    server.update(Map.of(kept, check("ns", "kept", 0), added, check("ns", "added", 2)));

    assertThat(server.ports()).containsExactlyInAnyOrder(kept, added);
    assertThat(get(kept, "/").statusCode()).isEqualTo(503);
    assertThat(get(added, "/").body()).contains("\"name\":\"added\"", "\"localEndpoints\":2");
    assertThatThrownBy(() -> get(removed, "/")).isInstanceOf(ConnectException.class);
  }

  @Test
  void aPortThatCannotBeBoundIsReportedAndTheOthersStillServe() throws Exception {
    try (ServerSocket squatter = new ServerSocket(0, 1, LOOPBACK)) {
      int taken = squatter.getLocalPort();
      int free = freePort();

      var problems = server.update(Map.of(taken, check("ns", "a", 1), free, check("ns", "b", 1)));

      assertThat(problems).singleElement().satisfies(p -> {
        assertThat(p.reason()).isEqualTo(Reason.PortConflict);
        assertThat(p.object().name()).isEqualTo("a");
        assertThat(p.message()).contains(String.valueOf(taken));
      });
      assertThat(server.ports()).containsExactly(free);
      assertThat(get(free, "/").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void closeStopsEveryListener() throws Exception {
    int port = freePort();
    server.update(Map.of(port, check("ns", "a", 1)));

    server.close();

    assertThat(server.ports()).isEmpty();
    assertThatThrownBy(() -> get(port, "/")).isInstanceOf(ConnectException.class);
  }

  @Test
  void aClientThatNeverFinishesItsRequestDoesNotHoldTheProbesOfItsPort() throws Exception {
    int port = freePort();
    server.update(Map.of(port, check("ns", "a", 1)));

    try (Socket slow = new Socket(LOOPBACK, port)) {
      slow.getOutputStream().write("GET /hea".getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush(); // on loopback: at the server before the probe connects

      long start = System.nanoTime();
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(
              URI.create("http://" + LOOPBACK.getHostAddress() + ":" + port + "/healthz"))
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
  }

  private HttpResponse<String> get(int port, String path)
      throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://" + LOOPBACK.getHostAddress() + ":" + port + path))
        .timeout(Duration.ofSeconds(5)).GET().build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static HealthCheck check(String namespace, String name, int localEndpoints) {
    return new HealthCheck(new ObjectRef("Service", namespace, name), localEndpoints);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, LOOPBACK)) {
      return socket.getLocalPort();
    }
  }
}
