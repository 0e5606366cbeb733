package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy action log through `anetd lab`: NetworkLogging default and NetworkPolicies applied
 * through the lab's API server, connections made from lab pods, records read from the lab node's
 * log file and counters from its `anetd status`.
 */
@KernelTest
class PolicyLoggingLabIT {
  private static final Pattern COUNTERS = Pattern.compile(
      "generated (\\d+), written (\\d+), dropped (\\d+) \\(rate_limit (\\d+)");
  private static final String OBJECTS = """
      apiVersion: v1
      kind: Namespace
      metadata: {name: logs}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: web, namespace: logs, labels: {app: web}}
      spec: {containers: [{name: web, image: lab/echo, ports: [{containerPort: 8080}]}]}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: client, namespace: logs, labels: {app: client}}
      spec: {containers: [{name: c, image: lab/echo, ports: [{containerPort: 9000}]}]}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: other, namespace: logs, labels: {app: other}}
      spec: {containers: [{name: c, image: lab/echo, ports: [{containerPort: 9000}]}]}
      ---
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: deny-web, namespace: logs}
      spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
      ---
      apiVersion: networking.gke.io/v1alpha1
      kind: NetworkLogging
      metadata: {name: default}
      spec: {cluster: {allow: {log: false, delegate: false}, deny: {log: true, delegate: false}}}
      """;
  private static final String ALLOWS = """
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata:
        name: allow-client
        namespace: logs
        annotations: {policy.network.gke.io/enable-logging: "true"}
      spec:
        podSelector: {matchLabels: {app: web}}
        ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
      ---
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: allow-other, namespace: logs}
      spec:
        podSelector: {matchLabels: {app: web}}
        ingress: [{from: [{podSelector: {matchLabels: {app: other}}}], ports: [{port: 8080}]}]
      ---
      apiVersion: networking.gke.io/v1alpha1
      kind: NetworkLogging
      metadata: {name: default}
      spec: {cluster: {allow: {log: true, delegate: true}, deny: {log: true, delegate: false}}}
      """;

  @TempDir
  Path tmp;

  @Test
  void denyRecordsAggregateDelegatedAllowsAndAFloodIsAccountedFor() throws Exception {
    Path state = tmp.resolve("lab");
    Lab lab = Lab.up(new Lab.Options(state, Optional.empty(), 1, CniPlugin.binary()));
    try {
      KubernetesClient client = lab.client();
      String node = lab.nodes().get(0).name();
      Path log = Lab.policyActionLog(state, node);
      Files.writeString(tmp.resolve("objects.yaml"), OBJECTS);
      LabApply.apply(client, tmp.resolve("objects.yaml"));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .until(() -> client.pods().inNamespace("logs").list().getItems().stream()
              .filter(SliceDesign::ready).count() == 3);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
          .until(() -> probe(state, "logs/client").equals("timeout"));
      probe(state, "logs/client");

      // 1. Denied attempts of one connection (source port zeroed) give one record.
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(lines(log, "deny"))
          .filteredOn(l -> l.contains("\"pod_name\":\"client\""))
          .singleElement().satisfies(l -> assertThat(l).contains("\"src_port\":0",
              "\"dest_port\":8080", "\"direction\":\"ingress\"", "\"pod_name\":\"web\"")));

      // 2. Delegate mode: only the allow of the annotated policy is logged.
      Files.writeString(tmp.resolve("allows.yaml"), ALLOWS);
      LabApply.apply(client, tmp.resolve("allows.yaml"));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
          .until(() -> probe(state, "logs/client").equals("connected"));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
          .until(() -> probe(state, "logs/other").equals("connected"));
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lines(log, "allow"))
          .anySatisfy(l -> assertThat(l).contains("\"pod_name\":\"client\"",
              "{\"name\":\"allow-client\",\"namespace\":\"logs\",\"kind\":\"NetworkPolicy\"}")));
      assertThat(lines(log, "allow")).noneMatch(l -> l.contains("\"pod_name\":\"other\""));

      // 3. A flood of 10,000 denied connections in under 5 s: the rate limit holds and every
      //    record not written is counted as dropped.
      long[] before = counters(state, node);
      String webIp = LabState.readPod(state, "logs", "web").orElseThrow().ip();
      Path clientNetns = NetworkNamespace.named(
          LabState.readPod(state, "logs", "client").orElseThrow().netns());
      long start = System.nanoTime();
      NetworkNamespace.call(clientNetns, () -> {
        List<SocketChannel> open = new ArrayList<>();
        for (int port = 20_000; port < 30_000; port++) { // distinct connections, all denied
          SocketChannel ch = SocketChannel.open();
          ch.configureBlocking(false);
          ch.connect(new InetSocketAddress(webIp, port));
          open.add(ch);
          if (open.size() == 500) {
            for (SocketChannel c : open) {
              c.close();
            }
            open.clear();
          }
        }
        for (SocketChannel c : open) {
          c.close();
        }
        return null;
      });
      double floodSeconds = (System.nanoTime() - start) / 1e9;
      assertThat(floodSeconds).as("flood duration").isLessThan(5);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
          .untilAsserted(() -> {
            long[] now = counters(state, node);
            long generated = now[0] - before[0];
            assertThat(generated).as("records generated by the flood").isGreaterThanOrEqualTo(10_000);
            assertThat(now[0]).as("generated = written + dropped").isEqualTo(now[1] + now[2]);
            assertThat(now[3] - before[3]).as("dropped by the rate limit").isPositive();
          });
      long[] after = counters(state, node);
      double elapsed = (System.nanoTime() - start) / 1e9;
      assertThat(after[1] - before[1]).as("written during the flood and its windows")
          .isLessThanOrEqualTo((long) (500 * elapsed) + 500);
    } finally {
      lab.close();
      LabDown.down(state, s -> {});
    }
  }

  private static String probe(Path state, String from) {
    String ip = LabState.readPod(state, "logs", "web").orElseThrow().ip();
    return LabProbe.probe(state, from, ip + ":8080", "tcp", 1000).word();
  }

  private static List<String> lines(Path log, String disposition) throws Exception {
    if (!Files.exists(log)) {
      return List.of();
    }
    return Files.readAllLines(log).stream()
        .filter(l -> l.contains("\"disposition\":\"" + disposition + "\"")).toList();
  }

  /** {generated, written, dropped, dropped by rate limit} from the lab node's anetd status. */
  private static long[] counters(Path state, String node) throws Exception {
    String address = Files.readString(state.resolve("nodes").resolve(node).resolve("config")
        .resolve("health-serve-addr")).strip();
    String status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://" + address + "/statusz")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = COUNTERS.matcher(status);
    assertThat(m.find()).as("policy action log counters in:\n" + status).isTrue();
    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
        Long.parseLong(m.group(3)), Long.parseLong(m.group(4))};
  }
}
