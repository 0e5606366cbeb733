package org.anetd.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `anetd policy trace` reads the cluster and names the policy that decides. */
@EnableKubernetesMockClient(crud = true)
class PolicyTraceCommandMockTest {
  static KubernetesClient client;

  @TempDir
  Path dir;

  @Test
  void traceNamesTheDenyingIsolationAndTheAllowingPolicy() throws Exception {
    client.resource(new NamespaceBuilder().withNewMetadata().withName("x")
        .withLabels(Map.of("kubernetes.io/metadata.name", "x")).endMetadata().build()).create();
    for (String name : new String[] {"a", "b"}) {
      client.resource(new PodBuilder().withNewMetadata().withNamespace("x").withName(name)
          .withLabels(Map.of("pod", name)).endMetadata().withNewSpec().withNodeName("n").endSpec()
          .withNewStatus().withPhase("Running").withPodIP(name.equals("a") ? "198.18.0.2"
              : "198.18.0.3").endStatus().build()).create();
    }
    client.resource(new NetworkPolicyBuilder().withNewMetadata().withNamespace("x")
        .withName("allow-a-to-b").endMetadata().withNewSpec().withNewPodSelector()
        .withMatchLabels(Map.of("pod", "b")).endPodSelector().addNewIngress().addNewFrom()
        .withNewPodSelector().withMatchLabels(Map.of("pod", "a")).endPodSelector().endFrom()
        .addNewPort().withNewPort(80).endPort().endIngress().withPolicyTypes("Ingress").endSpec()
        .build()).create();
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: m\n  cluster:\n"
        + "    server: " + client.getConfiguration().getMasterUrl() + "\n"
        + "    insecure-skip-tls-verify: true\ncontexts:\n- name: m\n  context:\n    cluster: m\n"
        + "    user: m\ncurrent-context: m\nusers:\n- name: m\n  user:\n    token: t\n");

    String allowed = trace(kubeconfig, "x/a", "x/b", "80/TCP");
    String denied = trace(kubeconfig, "x/a", "x/b", "81/TCP");

    assertThat(allowed).contains("allow-a-to-b").containsIgnoringCase("allow");
    assertThat(denied).containsIgnoringCase("deny");
  }

  private static String trace(Path kubeconfig, String from, String to, String port) {
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    int code = cli.execute("policy", "trace", "--from", from, "--to", to, "--port", port,
        "--kubeconfig", kubeconfig.toString());
    assertThat(code).isZero();
    return out.toString();
  }
}
