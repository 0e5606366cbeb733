package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab end to end, driven as `anetd lab` would be, without a shell: up, apply a namespace, a
 * 2-replica Deployment behind a Service, a Service without endpoints and a client pod; probe the
 * Service (connected), the empty Service (refused) and a pod directly (connected, TCP and UDP);
 * delete a pod and watch its EndpointSlice follow; down leaves nothing behind.
 */
@KernelTest
class ServicesLabIT {
  private static final String OBJECTS = """
      apiVersion: v1
      kind: Namespace
      metadata: {name: shop}
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: web
              image: lab/echo
              ports:
              - {name: http, containerPort: 8080}
              - {name: dns, containerPort: 5353, protocol: UDP}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: shop}
      spec:
        selector: {app: web}
        ports:
        - {name: http, port: 80, targetPort: http}
        - {name: dns, port: 53, targetPort: dns, protocol: UDP}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: sticky, namespace: shop}
      spec:
        selector: {app: web}
        sessionAffinity: ClientIP
        sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
        ports:
        - {port: 80, targetPort: http}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: empty, namespace: shop}
      spec:
        selector: {app: nobody}
        ports:
        - {port: 80, targetPort: 8080}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web-np, namespace: shop}
      spec:
        type: NodePort
        selector: {app: web}
        ports:
        - {port: 80, targetPort: http, nodePort: 30080}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: client, namespace: shop, labels: {app: client}}
      spec:
        containers:
        - {name: client, image: lab/echo, ports: [{containerPort: 9000}]}
      """;

  @TempDir
  Path tmp;

  @Test
  void upApplyProbeDeleteDown() throws Exception {
    Path state = tmp.resolve("lab");
    Lab lab = Lab.up(new Lab.Options(state, Optional.empty(), 1, CniPlugin.binary()));
    List<Long> serverPids = new ArrayList<>();
    try {
      KubernetesClient client = lab.client();
      Path file = tmp.resolve("shop.yaml");
      Files.writeString(file, OBJECTS);

      assertThat(LabApply.apply(client, file)).containsExactly("namespace/shop created",
          "deployment/web created", "service/web created", "service/sticky created", "service/empty created",
          "service/web-np created", "pod/client created");

      await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertThat(client.pods().inNamespace("shop").list().getItems())
              .hasSize(3).allSatisfy(p -> assertThat(SliceDesign.ready(p)).as(name(p)).isTrue()));
      List<Pod> web = client.pods().inNamespace("shop").withLabel("app", "web").list().getItems();
      assertThat(web).extracting(ServicesLabIT::name).allMatch(n -> n.matches("web-[a-z0-9]+-[a-z0-9]{5}"));
      assertThat(client.services().inNamespace("shop").withName("web").get().getSpec().getClusterIP())
          .startsWith("198.19.");
      for (LabState.Pod p : LabState.pods(state)) {
        serverPids.add(p.serverPid());
      }

      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
          .until(() -> probe(state, "web.shop.svc:80", "tcp").equals("connected"));
      assertThat(probe(state, "empty.shop.svc:80", "tcp")).isEqualTo("refused");
      assertThat(probe(state, "node:30080", "tcp")).as("NodePort on the lab node")
          .isEqualTo("connected");
      Pod first = web.get(0);
      assertThat(probe(state, "shop/" + name(first) + ":8080", "tcp")).isEqualTo("connected");
      assertThat(probe(state, "shop/" + name(first) + ":5353", "udp")).isEqualTo("connected");
      assertThat(probe(state, "shop/" + name(first) + ":5354", "udp")).isEqualTo("refused");
      // The echo server answers like agnhost netexec: hostname, clientip, echo.
      String clientIp = LabState.readPod(state, "shop", "client").orElseThrow().ip();
      assertThat(exchange(state, first.getStatus().getPodIP(), 8080, "hostname", "clientip", "hi"))
          .containsExactly(name(first), clientIp, "hi");

      // Session affinity: one client stays on one backend.
      String sticky = client.services().inNamespace("shop").withName("sticky").get().getSpec()
          .getClusterIP();
      List<String> stickyAnswers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        stickyAnswers.add(exchange(state, sticky, 80, "hostname").get(0));
      }
      assertThat(stickyAnswers).as("hostnames behind a ClientIP-affinity Service").hasSize(8)
          .allMatch(h -> h.equals(stickyAnswers.get(0)));
      // A pod reaches its own Service (sometimes itself: hairpin), every time.
      for (int i = 0; i < 8; i++) {
        assertThat(LabProbe.probe(state, "shop/" + name(first), "web.shop.svc:80", "tcp", 1000)
            .word()).as("hairpin try %d", i).isEqualTo("connected");
      }
      assertThat(probe(state, "web.shop.svc:53", "udp")).isEqualTo("connected");

      client.pods().inNamespace("shop").withName(name(first)).delete();

      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> {
            EndpointSlice slice = client.discovery().v1().endpointSlices().inNamespace("shop")
                .withName("web-lab").get();
            assertThat(slice.getEndpoints()).extracting(e -> e.getTargetRef().getName())
                .doesNotContain(name(first)).hasSize(2);
            assertThat(slice.getEndpoints()).allMatch(e -> e.getConditions().getReady());
          });
      assertThat(Cmd.netnsList()).doesNotContain(LabState.podNetns("shop", name(first)));
      assertThat(probe(state, "web.shop.svc:80", "tcp")).isEqualTo("connected");
      // UDP to the Service keeps working after a backend went away. (That an existing flow moves
      // off a removed backend is pinned by ServiceTrafficKernelTest svc_4.)
      for (int i = 0; i < 5; i++) {
        assertThat(probe(state, "web.shop.svc:53", "udp")).as("udp try %d", i)
            .isEqualTo("connected");
      }
    } finally {
      lab.close();
      LabDown.down(state, s -> {});
      LabDown.down(state, s -> {}); // twice is fine
    }
    assertThat(Cmd.netnsList()).noneMatch(n -> n.startsWith(LabState.PREFIX));
    assertThat(LabState.BPF_ROOT).doesNotExist();
    assertThat(state).doesNotExist();
    assertThat(serverPids).isNotEmpty().allMatch(pid -> ProcessHandle.of(pid)
        .map(h -> !h.isAlive()).orElse(true));
  }

  private static String probe(Path state, String target, String proto) {
    return LabProbe.probe(state, "shop/client", target, proto, 1000).word();
  }

  private static List<String> exchange(Path state, String ip, int port, String... lines) {
    return exchange(LabState.readPod(state, "shop", "client").orElseThrow(), ip, port, lines);
  }

  /** Lines sent from pod {@code from} over one TCP connection to ip:port, and the answers. */
  static List<String> exchange(LabState.Pod from, String ip, int port, String... lines) {
    String netns = from.netns();
    return NetworkNamespace.call(NetworkNamespace.named(netns), () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(ip, port), 2000);
        s.setSoTimeout(2000);
        OutputStream out = s.getOutputStream();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
            StandardCharsets.UTF_8));
        List<String> answers = new ArrayList<>();
        for (String line : lines) {
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          answers.add(in.readLine());
        }
        return answers;
      }
    });
  }

  private static String name(Pod p) {
    return p.getMetadata().getName();
  }
}
