package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Services whose backend runs on another node, end to end through two lab nodes (each with its
 * own agent, CNI and datapath; the lab translates per packet, bpf-lb-sock off): the client pod on
 * node 1 reaches a ClusterIP over TCP and UDP, a ClientIP-affinity Service and the NodePort of
 * its own node, all served by the one backend pod on node 2, and every answer comes from the
 * address it was sent to, with the client's own address seen by the backend.
 */
@KernelTest
class TwoNodeServicesLabIT {
  private static final String OBJECTS = """
      apiVersion: v1
      kind: Namespace
      metadata: {name: far}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: server, namespace: far, labels: {app: server}}
      spec:
        nodeName: %2$s
        containers:
        - name: server
          image: lab/echo
          ports:
          - {name: http, containerPort: 8080}
          - {name: dns, containerPort: 5353, protocol: UDP}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: client, namespace: far, labels: {app: client}}
      spec:
        nodeName: %1$s
        containers:
        - {name: client, image: lab/echo, ports: [{containerPort: 9000}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: far}
      spec:
        selector: {app: server}
        ports:
        - {name: http, port: 80, targetPort: http}
        - {name: dns, port: 53, targetPort: dns, protocol: UDP}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: sticky, namespace: far}
      spec:
        selector: {app: server}
        sessionAffinity: ClientIP
        ports:
        - {port: 80, targetPort: http}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web-np, namespace: far}
      spec:
        type: NodePort
        selector: {app: server}
        ports:
        - {port: 80, targetPort: http, nodePort: 30081}
      """.formatted(LabState.nodeName(1), LabState.nodeName(2));

  @TempDir
  Path tmp;

  @Test
  void aClientOnOneNodeReachesServicesWhoseBackendIsOnTheOther() throws Exception {
    Path state = tmp.resolve("lab");
    Lab lab = Lab.up(new Lab.Options(state, Optional.empty(), 2, CniPlugin.binary()));
    try {
      KubernetesClient client = lab.client();
      Path file = tmp.resolve("far.yaml");
      Files.writeString(file, OBJECTS);
      LabApply.apply(client, file);
      await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertThat(client.pods().inNamespace("far").list().getItems())
              .hasSize(2).allSatisfy(p -> assertThat(SliceDesign.ready(p)).isTrue()));
      LabState.Pod server = LabState.readPod(state, "far", "server").orElseThrow();
      LabState.Pod clientPod = LabState.readPod(state, "far", "client").orElseThrow();
      assertThat(server.node()).isEqualTo(LabState.nodeName(2));
      assertThat(clientPod.node()).isEqualTo(LabState.nodeName(1));
      // both agents must have the Service (the lab gives it its ClusterIP in a later pass) and
      // the remote pod before the first try
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(() -> probe(state, "web.far.svc:80", "tcp").equals("connected"));
      String web = clusterIp(client, "web");
      for (int i = 0; i < 5; i++) {
        assertThat(ServicesLabIT.exchange(clientPod, web, 80, "hostname", "clientip", "hi " + i))
            .as("TCP through the ClusterIP, try %d", i)
            .containsExactly("server", clientPod.ip(), "hi " + i);
      }
      for (int i = 0; i < 5; i++) {
        assertThat(udpExchange(clientPod, web, 53, "hostname")).as("UDP try %d", i)
            .isEqualTo("server");
      }
      assertThat(ServicesLabIT.exchange(clientPod, clusterIp(client, "sticky"), 80, "hostname"))
          .containsExactly("server");
      assertThat(probe(state, "node:30081", "tcp")).as("the NodePort of the client's own node")
          .isEqualTo("connected");
    } finally {
      lab.close();
      LabDown.down(state, s -> {});
    }
    assertThat(Cmd.netnsList()).noneMatch(n -> n.startsWith(LabState.PREFIX));
  }

  private static String clusterIp(KubernetesClient client, String service) {
    return client.services().inNamespace("far").withName(service).get().getSpec().getClusterIP();
  }

  private static String probe(Path state, String target, String proto) {
    return LabProbe.probe(state, "far/client", target, proto, 1000).word();
  }

  /** One datagram from the pod's netns on a socket connected to ip:port, and the answer. */
  private static String udpExchange(LabState.Pod from, String ip, int port, String line) {
    return NetworkNamespace.call(NetworkNamespace.named(from.netns()), () -> {
      try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(0))) {
        s.setSoTimeout(2000);
        s.connect(new InetSocketAddress(ip, port)); // answers from any other address are dropped
        byte[] out = (line + "\n").getBytes(StandardCharsets.UTF_8);
        s.send(new DatagramPacket(out, out.length));
        DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
        s.receive(in);
        return new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8).strip();
      }
    });
  }
}
