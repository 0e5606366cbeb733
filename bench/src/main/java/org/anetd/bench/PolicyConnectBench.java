package org.anetd.bench;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.policy.DesiredPolicy;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.policy.IpcacheCompiler;
import org.anetd.agent.policy.PolicyCompiler;

/**
 * The connection rate to a pod that 1,000 NetworkPolicies select, against the same pod with no
 * policy, in one run: two nodes wired like {@link ServiceBench}'s (client pod, two server pods,
 * bpf_lxc on every veth), interleaved in 50 ms slices. Writes bench/results/policy-connect.{md,json}.
 *
 * <p>Usage: PolicyConnectBench SVC_BENCH_BINARY RESULTS_DIR [POLICIES] [ROUNDS]
 */
public final class PolicyConnectBench {
  private static final String NODE = "bench-node";

  private PolicyConnectBench() {}

  public static void main(String[] args) throws Exception {
    Path binary = Path.of(args[0]);
    Path results = Path.of(args[1]);
    int policies = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 6;
    List<Double> none = new ArrayList<>();
    List<Double> many = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    int entries;
    try (BenchLab lab = new BenchLab()) {
      ServiceBench bench = new ServiceBench(lab, binary, 4);
      DatapathSettings base = new DatapathSettings(DatapathSettings.DEFAULT_PIN_ROOT, 65_536,
          262_144, 65_536, 16_384);
      Datapath dp0 = Datapath.load(base.withPinRoot(lab.bpffsDir("pol0")));
      lab.onClose(dp0::close);
      Datapath dpP = Datapath.load(base.withPinRoot(lab.bpffsDir("polp")));
      lab.onClose(dpP::close);
      ServiceBench.Node n0 = bench.node("pol0", dp0);
      ServiceBench.Node nP = bench.node("polp", dpP);
      program(dp0, List.of());
      entries = program(dpP, policies(policies));

      String servers = ServiceBench.S1 + "," + ServiceBench.S2;
      String port = "" + ServiceBench.TARGET_PORT;
      for (ServiceBench.Node n : List.of(n0, nP)) { // warm-up, and proof that policy allows it
        double[] rr = bench.rr(n.client(), servers, port, 0.5);
        if (rr[0] <= 0 || rr[3] > 0) {
          throw new IllegalStateException("no traffic through " + n.name() + ": "
              + java.util.Arrays.toString(rr));
        }
      }
      for (int r = 0; r < rounds; r++) {
        List<ServiceBench.Node> order = r % 2 == 0 ? List.of(n0, nP) : List.of(nP, n0);
        List<String> specs = order.stream().map(n -> NetworkNamespace.named(n.client()) + ","
            + servers.replace(',', '+') + "," + port).toList();
        List<double[]> rr = bench.mix(false, 50, 10, specs);
        double zero = rr.get(order.indexOf(n0))[0];
        double withPolicies = rr.get(order.indexOf(nP))[0];
        none.add(zero);
        many.add(withPolicies);
        ratios.add(withPolicies / zero);
        System.out.printf(Locale.ROOT, "round %d: 0 policies %,.0f conn/s, %d policies %,.0f"
            + " conn/s (%.3f)%n", r + 1, zero, policies, withPolicies, withPolicies / zero);
      }
    }
    double ratio = ServiceBench.median(ratios);
    Files.createDirectories(results);
    String md = String.format(Locale.ROOT, """
        # Connection rate with NetworkPolicies selecting the pod

        Two nodes wired like `services.md`'s (a client pod and two server pods, bpf_lxc on every
        veth), interleaved in 50 ms slices for %d rounds of 10 s: on one node no policy selects
        the servers; on the other %,d NetworkPolicies select them (each allows the client on
        8080 and on a port of its own: %,d policy entries for the two servers), compiled by the
        agent's PolicyCompiler and written with its PolicyWriter. Short connections (connect, a
        request line, the answer, close), 4 client threads, to the server pods' IPs.

        | | conn/s (median) |
        |---|---|
        | 0 policies | %,.0f |
        | %,d policies | %,.0f |
        | ratio (median of per-round ratios) | %.3f (cost %.1f%%; goal <= 3%%) |
        """, rounds, policies, entries, ServiceBench.median(none), policies,
        ServiceBench.median(many), ratio, (1 - ratio) * 100);
    Files.writeString(results.resolve("policy-connect.md"), md);
    Files.writeString(results.resolve("policy-connect.json"), String.format(Locale.ROOT,
        "{\"policies\": %d, \"entries\": %d, \"rounds\": %d, \"zero_per_s\": %.0f,"
            + " \"policies_per_s\": %.0f, \"ratio\": %.4f}%n", policies, entries, rounds,
        ServiceBench.median(none), ServiceBench.median(many), ratio));
    System.out.print(md);
  }

  /** Compiles the node's three pods and {@code policies} and writes them; returns entry count. */
  private static int program(Datapath dp, List<NetworkPolicy> policies) {
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName("bench")
        .withLabels(Map.of("kubernetes.io/metadata.name", "bench")).endMetadata().build();
    List<Pod> pods = List.of(pod("client", ServiceBench.CLIENT, "client"),
        pod("s1", ServiceBench.S1, "server"), pod("s2", ServiceBench.S2, "server"));
    ClusterState state = new ClusterState(1, NODE, List.of(), List.of(), pods, List.of(ns),
        policies, List.of());
    Map<String, Integer> endpoints = Map.of("bench/client", 1, "bench/s1", 2, "bench/s2", 3);
    DesiredPolicy desired = PolicyCompiler.compile(state, endpoints, IdentityAllocation.EMPTY);
    boolean isolated = desired.endpoints().get(2L).flags() != 0
        && desired.endpoints().get(3L).flags() != 0;
    if (isolated != !policies.isEmpty()) {
      throw new IllegalStateException("servers isolated: " + isolated + " with "
          + policies.size() + " policies: the benchmark would not measure what it says");
    }
    dp.policyWriter().write(desired.entries(), desired.endpoints(),
        IpcacheCompiler.compile(state, desired.identities(), endpoints));
    return desired.entries().size();
  }

  private static Pod pod(String name, String ip, String app) {
    return new PodBuilder().withNewMetadata().withNamespace("bench").withName(name)
        .withLabels(Map.of("app", app)).endMetadata().withNewSpec().withNodeName(NODE).endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).endStatus().build();
  }

  private static List<NetworkPolicy> policies(int n) {
    List<NetworkPolicy> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new NetworkPolicyBuilder().withNewMetadata().withNamespace("bench")
          .withName("p-" + i).endMetadata().withNewSpec().withNewPodSelector()
          .withMatchLabels(Map.of("app", "server")).endPodSelector().addNewIngress().addNewFrom()
          .withNewPodSelector().withMatchLabels(Map.of("app", "client")).endPodSelector()
          .endFrom().addNewPort().withNewPort(ServiceBench.TARGET_PORT).withProtocol("TCP")
          .endPort().addNewPort().withNewPort(10_000 + i).withProtocol("TCP").endPort()
          .endIngress().withPolicyTypes("Ingress").endSpec().build());
    }
    return out;
  }
}
