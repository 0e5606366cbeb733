package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.KernelTest;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream-style netpol truth tables through `anetd lab`, the path users take: namespaces x,
 * y, z with pods a, b, c serving TCP and UDP on 80 and 81 (lab pods made through the real CNI
 * path), policies applied through the lab's API server, every pair probed with `lab probe`.
 */
@KernelTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkPolicyLabIT {
  private static final List<String> NS = List.of("x", "y", "z");
  private static final List<String> PODS = List.of("a", "b", "c");

  @TempDir
  static Path tmp;
  private static Path state;
  private static Lab lab;
  private static KubernetesClient client;
  private static ExecutorService probes;

  /** One probe: from ns/pod to ns/pod on port/proto. */
  record Conn(String fromNs, String fromPod, String toNs, String toPod, String proto, int port) {
    boolean to(String ns, String pod) {
      return toNs.equals(ns) && toPod.equals(pod);
    }

    boolean self() {
      return fromNs.equals(toNs) && fromPod.equals(toPod);
    }

    @Override
    public String toString() {
      return fromNs + "/" + fromPod + " -> " + toNs + "/" + toPod + " " + proto + "/" + port;
    }
  }

  @BeforeAll
  static void up() throws Exception {
    state = tmp.resolve("lab");
    lab = Lab.up(new Lab.Options(state, Optional.empty(), 1, CniPlugin.binary()));
    client = lab.client();
    probes = Executors.newFixedThreadPool(48);
    StringBuilder yaml = new StringBuilder();
    for (String ns : NS) {
      yaml.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: ").append(ns)
          .append(", labels: {ns: ").append(ns).append("}}\n---\n");
      for (String pod : PODS) {
        yaml.append("apiVersion: v1\nkind: Pod\nmetadata: {name: ").append(pod)
            .append(", namespace: ").append(ns).append(", labels: {pod: ").append(pod)
            .append("}}\nspec:\n  containers:\n  - name: serve\n    image: lab/echo\n    ports:\n")
            .append("    - {name: serve-80-tcp, containerPort: 80, protocol: TCP}\n")
            .append("    - {name: serve-80-udp, containerPort: 80, protocol: UDP}\n")
            .append("    - {name: serve-81-tcp, containerPort: 81, protocol: TCP}\n")
            .append("    - {name: serve-81-udp, containerPort: 81, protocol: UDP}\n---\n");
      }
    }
    Path file = tmp.resolve("pods.yaml");
    Files.writeString(file, yaml.toString());
    LabApply.apply(client, file);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
        .until(() -> NS.stream().allMatch(ns -> client.pods().inNamespace(ns).list().getItems()
            .stream().filter(SliceDesign::ready).count() == PODS.size()));
  }

  @AfterAll
  static void down() {
    if (probes != null) {
      probes.shutdownNow();
    }
    if (lab != null) {
      lab.close();
    }
    LabDown.down(state, s -> {});
  }

  private static NetworkPolicy policy(String yaml) {
    return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(yaml, NetworkPolicy.class);
  }

  /** Probes every pair; returns the connections whose outcome differs from {@code allowed}. */
  private static List<String> mismatches(Predicate<Conn> allowed) throws Exception {
    List<Conn> conns = new ArrayList<>();
    List<Future<String>> got = new ArrayList<>();
    for (String fns : NS) {
      for (String fp : PODS) {
        for (String tns : NS) {
          for (String tp : PODS) {
            for (String proto : List.of("tcp", "udp")) {
              for (int port : List.of(80, 81)) {
                Conn c = new Conn(fns, fp, tns, tp, proto, port);
                conns.add(c);
                got.add(probes.submit(() -> LabProbe.probe(state, fns + "/" + fp,
                    tns + "/" + tp + ":" + port, proto, 500).word()));
              }
            }
          }
        }
      }
    }
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < conns.size(); i++) {
      Conn c = conns.get(i);
      boolean expected = c.self() || allowed.test(c);
      boolean connected = got.get(i).get().equals("connected");
      if (connected != expected) {
        wrong.add(c + ": " + got.get(i).get() + ", expected " + (expected ? "connected" : "blocked"));
      }
    }
    return wrong;
  }

  /**
   * Waits for the agent to enforce {@code allowed} (a pass takes a moment), then checks it. A
   * failure says what the API server holds and what the agent saw and wrote, so that a stale
   * watch, a failing pass and a wrong datapath tell themselves apart in a CI log.
   */
  private static void expect(String name, Predicate<Conn> allowed) {
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> assertThat(mismatches(allowed)).as(name).isEmpty());
    } catch (ConditionTimeoutException e) {
      List<String> policies = client.network().networkPolicies().inAnyNamespace().list()
          .getItems().stream().map(p -> p.getMetadata().getNamespace() + "/"
              + p.getMetadata().getName()).toList();
      throw new AssertionError(e.getMessage() + "\nAPI server network policies: " + policies
          + "\nagent status:\n" + String.join("\n", lab.agentSummaries()), e);
    }
  }

  @Test
  @Order(1)
  void noPolicyAllowsEverything() {
    expect("no policy", c -> true);
  }

  @Test
  @Order(2)
  void denyAllIngressInXThenAllowFromTheSameNamespace() {
    client.resource(policy("""
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
         "metadata":{"name":"deny-all","namespace":"x"},
         "spec":{"podSelector":{},"policyTypes":["Ingress"]}}""")).create();
    expect("deny all ingress in x", c -> !c.toNs().equals("x"));

    client.resource(policy("""
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
         "metadata":{"name":"same-ns","namespace":"x"},
         "spec":{"podSelector":{},"ingress":[{"from":[{"podSelector":{}}]}]}}""")).create();
    expect("plus allow from x", c -> !c.toNs().equals("x") || c.fromNs().equals("x"));
  }

  @Test
  @Order(3)
  void namespaceSelectorNamedPortAndEndPort() {
    client.resource(policy("""
        {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
         "metadata":{"name":"y-to-a-81","namespace":"x"},
         "spec":{"podSelector":{"matchLabels":{"pod":"a"}},
                 "ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"ns":"y"}}}],
                             "ports":[{"port":"serve-81-tcp"},
                                      {"protocol":"UDP","port":80,"endPort":81}]}]}}""")).create();
    expect("x/a also from y on TCP 81 (named) and UDP 80-81 (endPort)",
        c -> !c.toNs().equals("x") || c.fromNs().equals("x")
            || c.to("x", "a") && c.fromNs().equals("y")
                && (c.proto().equals("tcp") && c.port() == 81 || c.proto().equals("udp")));
  }

  @Test
  @Order(4)
  void deletingThePoliciesRestoresAccess() {
    client.network().networkPolicies().inNamespace("x").delete();
    expect("all policies deleted", c -> true);
  }

  /**
   * Every truth table of the datapath suite (NetworkPolicyTrafficKernelTest) whose policies do not
   * name pod addresses (lab addresses come from IPAM): applied, checked, then deleted and access
   * restored before the next, so a table can never pass on its predecessor's state.
   */
  static java.util.stream.Stream<org.anetd.agent.policy.NetpolTables.Table> tables() {
    return org.anetd.agent.policy.NetpolTables.tables().stream().filter(t -> !t.usesIpBlocks());
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("tables")
  @Order(5)
  void truthTable(org.anetd.agent.policy.NetpolTables.Table table) {
    for (NetworkPolicy p : table.policies()) {
      client.resource(p).create();
    }
    expect(table.name(), c -> table.allowed().test(new org.anetd.agent.policy.NetpolTables.Probe(
        c.fromNs(), c.fromPod(), c.toNs(), c.toPod(), c.proto(), c.port())));
    for (String ns : NS) {
      client.network().networkPolicies().inNamespace(ns).delete();
    }
    expect(table.name() + " deleted", c -> true);
  }
}
