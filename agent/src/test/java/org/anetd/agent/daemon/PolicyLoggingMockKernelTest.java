package org.anetd.agent.daemon;

import static org.anetd.agent.daemon.ClusterFixtures.denyIngress;
import static org.anetd.agent.daemon.ClusterFixtures.namespace;
import static org.anetd.agent.daemon.ClusterFixtures.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork.Pod;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy action log end to end: a deny policy and NetworkLogging default through the API, a
 * denied connection in the datapath, one aggregated deny record in GKE's format in the log file;
 * then allow logging, and an allowed connection logged with the policy that allowed it.
 */
@KernelTest
@EnableKubernetesMockClient(crud = true)
class PolicyLoggingMockKernelTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @TempDir
  Path dir;

  @BeforeEach
  void crd() {
    server.expectCustomResource(new CustomResourceDefinitionContext.Builder()
        .withGroup("networking.gke.io").withVersion("v1alpha1").withKind("NetworkLogging")
        .withPlural("networkloggings").withScope("Cluster").build());
  }

  private static GenericKubernetesResource networkLogging(boolean allow, boolean deny) {
    return new GenericKubernetesResourceBuilder().withApiVersion("networking.gke.io/v1alpha1")
        .withKind("NetworkLogging").withNewMetadata().withName("default").endMetadata()
        .withAdditionalProperties(Map.of("spec", Map.of("cluster", Map.of(
            "allow", Map.of("log", allow, "delegate", false),
            "deny", Map.of("log", deny, "delegate", false)))))
        .build();
  }

  private static String cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    picocli.CommandLine cli = new picocli.CommandLine(new org.anetd.agent.cli.Main());
    cli.setOut(new java.io.PrintWriter(out, true));
    assertThat(cli.execute(args)).as("anetd %s", String.join(" ", args)).isZero();
    return out.toString();
  }


  @Test
  void deniedConnectionIsLoggedOnceAggregatedThenAllowsWithTheirPolicy(NetnsLab lab)
      throws Exception {
    Path log = dir.resolve("network/policy_action.log");
    client.resource(node()).create();
    client.resource(namespace("default")).create();
    client.resource(denyIngress("default", "web")).create();
    client.genericKubernetesResources(NetworkLoggingWatch.CONTEXT)
        .resource(networkLogging(false, true)).create();
    AgentHarness harness = new AgentHarness(lab, client, dir);
    harness.start(Map.of("policy-action-log", log.toString()));
    Pod clientPod = harness.pod("client", Map.of("app", "client"));
    Pod web = harness.pod("web", Map.of("app", "web"));
    Process server = web.ns().spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo web $SOCAT_PEERADDR; exec cat");
    await().atMost(Duration.ofSeconds(5)).until(() -> server.isAlive()
        && web.ns().exec(5, "ss", "-Hlnt", "sport = :8080").output().contains("8080"));

    String endpoints = cli("endpoint", "list", "--address", "127.0.0.1:" + harness.healthPort);
    assertThat(endpoints).containsPattern("default \\{app=web\\}\\s+" + web.ip().replace(".", "\\.")
        + "\\s+\\d+\\s+enforced").containsPattern("default \\{app=client\\}\\s+"
        + clientPod.ip().replace(".", "\\."));

    for (int attempt = 0; attempt < 2; attempt++) {
      assertThatThrownBy(() -> clientPod.greeting(web.ip(), 8080))
          .as("ingress to web is denied").isInstanceOf(RuntimeException.class);
    }

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(log).exists();
      List<String> denies = Files.readAllLines(log).stream()
          .filter(l -> l.contains("\"disposition\":\"deny\"")).toList();
      assertThat(denies).hasSize(1);
      assertThat(denies.get(0))
          .contains("\"src_ip\":\"" + clientPod.ip() + "\"", "\"dest_ip\":\"" + web.ip() + "\"",
              "\"src_port\":0", "\"dest_port\":8080", "\"protocol\":\"tcp\"",
              "\"direction\":\"ingress\"", "\"pod_name\":\"web\"", "\"pod_name\":\"client\"",
              "\"node_name\":\"node-1\"")
          .doesNotContain("\"policies\"");
    });

    client.resource(new NetworkPolicyBuilder().withNewMetadata().withNamespace("default")
        .withName("allow-client").endMetadata().withNewSpec().withNewPodSelector()
        .withMatchLabels(Map.of("app", "web")).endPodSelector().addNewIngress().addNewFrom()
        .withNewPodSelector().withMatchLabels(Map.of("app", "client")).endPodSelector()
        .endFrom().endIngress().withPolicyTypes("Ingress").endSpec().build()).create();
    client.genericKubernetesResources(NetworkLoggingWatch.CONTEXT).withName("default")
        .edit(r -> networkLogging(true, true));

    await().atMost(Duration.ofSeconds(15)).ignoreExceptions().untilAsserted(() ->
        assertThat(clientPod.greeting(web.ip(), 8080)).startsWith("web "));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Files.readAllLines(log)).anySatisfy(l -> assertThat(l)
            .contains("\"disposition\":\"allow\"", "\"dest_port\":8080",
                "{\"name\":\"allow-client\",\"namespace\":\"default\",\"kind\":\"NetworkPolicy\"}")));
  }
}
