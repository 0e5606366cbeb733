package org.anetd.bench;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.anetd.agent.daemon.Reconciler;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.MapBackend;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.service.ServiceCompilerConfig;

/**
 * Time from a NetworkPolicy change to its entries written in the real pinned policy maps, with
 * 1,000 policies and 10,000 pods of cluster state (30 of them on this node), through the agent's
 * Reconciler (compile + write). Writes bench/results/policy.{md,json}.
 *
 * <p>Usage: PolicyBench RESULTS_DIR [PODS] [POLICIES] [SAMPLES]
 */
public final class PolicyBench {
  private static final String NODE = "bench-node";

  private PolicyBench() {}

  public static void main(String[] args) throws Exception {
    Path results = Path.of(args[0]);
    int pods = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int policies = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
    int samples = args.length > 3 ? Integer.parseInt(args[3]) : 60;
    int local = 30;
    int namespaces = 50;

    List<Namespace> nss = new ArrayList<>();
    for (int n = 0; n < namespaces; n++) {
      nss.add(new NamespaceBuilder().withNewMetadata().withName("ns-" + n)
          .withLabels(Map.of("kubernetes.io/metadata.name", "ns-" + n, "team", "t" + n % 5))
          .endMetadata().build());
    }
    List<Pod> podList = new ArrayList<>();
    Map<String, Integer> endpoints = new HashMap<>();
    for (int p = 0; p < pods; p++) {
      String ns = "ns-" + p % namespaces;
      String name = "pod-" + p;
      boolean mine = p < local;
      podList.add(new PodBuilder().withNewMetadata().withNamespace(ns).withName(name)
          .withUid("uid-" + p).withLabels(Map.of("app", "app-" + p % 200, "tier", "t" + p % 3))
          .endMetadata().withNewSpec().withNodeName(mine ? NODE : "other-" + p % 100)
          .addNewContainer().withName("c").addNewPort().withName("http").withContainerPort(8080)
          .endPort().endContainer().endSpec().withNewStatus().withPhase("Running")
          .withPodIP("10." + (p >> 16 & 255) + "." + (p >> 8 & 255) + "." + (p & 255)).endStatus()
          .build());
      if (mine) {
        endpoints.put(ns + "/" + name, p + 1);
      }
    }
    List<NetworkPolicy> policyList = new ArrayList<>();
    for (int i = 0; i < policies; i++) {
      policyList.add(policy(i, 80));
    }

    Path pins = Path.of("/sys/fs/bpf/anetd-policy-bench-" + ProcessHandle.current().pid());
    long[] micros = new long[samples];
    double firstMs;
    int entries;
    try (Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins))) {
      Reconciler reconciler = new Reconciler(dp.loadBalancerWriter(), dp.policyWriter(),
          List.of(MapBackend.of(dp.map(Datapath.CT4_ANY))), ServiceCompilerConfig.defaults(),
          IdentityAllocation.EMPTY, Clock.systemUTC());
      long t0 = System.nanoTime();
      Reconciler.Report first = reconciler.reconcile(state(0, nss, podList, policyList), endpoints);
      firstMs = (System.nanoTime() - t0) / 1e6;
      entries = first.desiredPolicy().entries().size();
      for (int i = 0; i < samples + 5; i++) {
        List<NetworkPolicy> edited = new ArrayList<>(policyList);
        int which = i % local; // policies 0..29 select a local pod (pod i: ns-i, tier i%3)
        edited.set(which, policy(which, 80 + 1 + i % 2)); // a port change: entries move
        ClusterState next = state(i + 1, nss, podList, edited);
        long t = System.nanoTime();
        Reconciler.Report r = reconciler.reconcile(next, endpoints);
        if (i >= 5) { // the first passes warm the JIT
          micros[i - 5] = (System.nanoTime() - t) / 1000;
        }
        if (r.policy().changes() == 0 && i >= 5) {
          throw new IllegalStateException("a policy edit changed no entry (sample " + i
              + ", " + entries + " entries, endpoints " + r.desiredPolicy().endpoints() + ")");
        }
      }
    } finally {
      if (Files.exists(pins)) {
        try (var files = Files.list(pins)) {
          for (Path p : files.toList()) {
            Files.delete(p);
          }
        }
        Files.delete(pins);
      }
    }
    Arrays.sort(micros);
    double p50 = micros[samples / 2] / 1000.0;
    double p99 = micros[Math.min(samples - 1, (int) Math.ceil(samples * 0.99) - 1)] / 1000.0;
    Files.createDirectories(results);
    String md = String.format(Locale.ROOT, """
        # Policy change to enforcement

        %,d pods in %d namespaces (%d on this node), %,d NetworkPolicies selecting them by labels and
        namespace labels; each sample edits one policy's port and runs the agent's Reconciler
        (compile policies, identities and ipcache, then write the difference into real pinned
        maps). %d entries for the local endpoints.

        | measure | value | goal |
        |---|---|---|
        | first pass (everything from scratch) | %.0f ms | |
        | policy change -> entries written, p50 | %.0f ms | |
        | policy change -> entries written, p99 | %.0f ms | <= 600 ms |
        """, pods, namespaces, local, policies, entries, firstMs, p50, p99);
    Files.writeString(results.resolve("policy.md"), md);
    Files.writeString(results.resolve("policy.json"), String.format(Locale.ROOT,
        "{\"pods\": %d, \"policies\": %d, \"local_endpoints\": %d, \"entries\": %d,"
            + " \"first_pass_ms\": %.1f, \"change_p50_ms\": %.1f, \"change_p99_ms\": %.1f}%n",
        pods, policies, local, entries, firstMs, p50, p99));
    System.out.print(md);
  }

  private static NetworkPolicy policy(int i, int port) {
    return new NetworkPolicyBuilder().withNewMetadata().withNamespace("ns-" + i % 50)
        .withName("pol-" + i).endMetadata().withNewSpec().withNewPodSelector()
        .withMatchLabels(Map.of("tier", "t" + i % 3)).endPodSelector().addNewIngress().addNewFrom()
        .withNewNamespaceSelector().withMatchLabels(Map.of("team", "t" + i % 5))
        .endNamespaceSelector().withNewPodSelector().withMatchLabels(Map.of("app", "app-" + i % 200))
        .endPodSelector().endFrom().addNewPort().withNewPort(port).withProtocol("TCP").endPort()
        .endIngress().withPolicyTypes("Ingress").endSpec().build();
  }

  private static ClusterState state(long v, List<Namespace> ns, List<Pod> pods,
      List<NetworkPolicy> policies) {
    return new ClusterState(v, NODE, List.of(), List.of(), pods, ns, policies, List.of());
  }
}
