package org.anetd.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4KeyCodec;
import org.anetd.agent.datapath.Lb4ServiceCodec;
import org.anetd.agent.datapath.Protocol;

/**
 * The agent's control plane at scale: N Services with E endpoints each served by fabric8's CRUD
 * mock API server; the agent runs as its own process (bin/anetd's JVM flags), so its RSS is its
 * own. Measures initial sync (start -> every frontend in the pinned map), heap and RSS, and the
 * latency from one EndpointSlice change to the datapath using it, under a steady stream of other
 * updates. Writes bench/results/control-plane.{md,json}.
 *
 * <p>Usage: ControlPlaneBench AGENT_JAR RESULTS_DIR [SERVICES] [ENDPOINTS_PER_SERVICE] [SAMPLES]
 */
public final class ControlPlaneBench {
  private static final String NODE = ClusterObjects.NODE;
  private static final int PORT = ClusterObjects.PORT;

  private ControlPlaneBench() {}

  public static void main(String[] args) throws Exception {
    Path agentJar = Path.of(args[0]);
    Path results = Path.of(args[1]);
    int services = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    int perService = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int samples = args.length > 4 ? Integer.parseInt(args[4]) : 200;
    // The agent runs through bin/anetd, with the JVM options and environment it ships with;
    // ANETD_AGENT_JAVA_OPTS replaces the options (JAVA_OPTS of the launcher).
    String javaOpts = System.getenv("ANETD_AGENT_JAVA_OPTS");
    Path launcher = agentJar.toAbsolutePath().getParent().getParent().getParent()
        .resolve("bin/anetd");
    java.util.logging.LogManager.getLogManager().reset(); // the mock server logs every request
    KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(),
        new HashMap<>(), new KubernetesCrudDispatcher(), false);
    api.init(InetAddress.getLoopbackAddress(), 0);
    Path work = Files.createTempDirectory("anetd-cp-bench");
    Path pins = Path.of("/sys/fs/bpf/anetd-bench-" + ProcessHandle.current().pid());
    Process agent = null;
    try (KubernetesClient client = api.createClient()) {
      long t0 = System.nanoTime();
      populate(client, services, perService);
      double populateSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("populated %d services x %d endpoints in %.1f s%n", services, perService,
          populateSeconds);

      Path kubeconfig = work.resolve("kubeconfig");
      Files.writeString(kubeconfig, kubeconfig(api.url("/").replaceAll("/$", "")));
      Path config = Files.createDirectories(work.resolve("config"));
      Files.writeString(config.resolve("bpf-root"), pins.toString());
      Files.writeString(config.resolve("bpf-lb-map-max"), "262144");
      Files.writeString(config.resolve("prometheus-serve-addr"), "");
      Files.writeString(config.resolve("health-serve-addr"), "127.0.0.1:" + freePort());

      List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "agent", "--node-name",
          NODE, "--kubeconfig", kubeconfig.toString(), "--config-dir", config.toString(),
          "--state-dir", work.resolve("state").toString()));
      ProcessBuilder agentProcess = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(work.resolve("agent.log").toFile());
      agentProcess.environment().put("ANETD_JAR", agentJar.toString());
      if (javaOpts != null) {
        agentProcess.environment().put("JAVA_OPTS", javaOpts);
      }
      long start = System.nanoTime();
      agent = agentProcess.start();
      Lb4Key last = master(services - 1);
      BpfMap servicesMap = awaitPinned(pins.resolve(Datapath.LB4_SERVICES), agent);
      while (servicesMap.lookup(Lb4KeyCodec.INSTANCE.encode(last)).isEmpty()) {
        requireAlive(agent, work);
        Thread.sleep(20);
      }
      double syncSeconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("initial sync: %.2f s%n", syncSeconds);
      Thread.sleep(2000); // let the first passes settle before reading memory
      long rssAfterSync = rssKib(agent.pid());
      String heapAfterSync = heap(agent.pid());

      Latency latency = measureLatency(client, servicesMap, services, perService, samples, agent,
          work);
      long rssAfterChurn = rssKib(agent.pid());
      String heapAfterChurn = heap(agent.pid());

      write(results, services, perService, populateSeconds, syncSeconds, rssAfterSync,
          heapAfterSync, rssAfterChurn, heapAfterChurn, latency, jvm(agent.pid()));
    } finally {
      if (agent != null) {
        agent.destroy();
        if (!agent.waitFor(10, TimeUnit.SECONDS)) {
          agent.destroyForcibly();
        }
      }
      api.destroy();
      deleteTree(pins);
    }
  }

  /**
   * Sorted sample times in hundredths of a millisecond: change to datapath, and of that the API
   * write's round trip (the mock server sends the watch event before it answers).
   */
  record Latency(long[] sortedMillisTimes100, long[] sortedWriteTimes100, int samples,
      double backgroundRate) {
    double percentile(double p) {
      return percentile(sortedMillisTimes100, p);
    }

    double writePercentile(double p) {
      return percentile(sortedWriteTimes100, p);
    }

    private static double percentile(long[] sorted, double p) {
      int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1);
      return sorted[Math.max(0, i)] / 100.0;
    }
  }

  /**
   * Adds (then removes) one endpoint of a probe Service and times until its master entry's slot
   * count shows it, while a background thread updates other Services' slices ~20 times a second.
   */
  private static Latency measureLatency(KubernetesClient client, BpfMap servicesMap, int services,
      int perService, int samples, Process agent, Path work) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong background = new AtomicLong();
    ExecutorService churn = Executors.newSingleThreadExecutor();
    Random random = new Random(42);
    churn.submit(() -> {
      int round = 0;
      while (!stop.get()) {
        int s = 1 + random.nextInt(services - 1);
        int size = perService - (round++ % 2); // flip between E and E-1 endpoints
        client.resource(ClusterObjects.slice(s, size)).update();
        background.incrementAndGet();
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return null;
        }
      }
      return null;
    });
    long churnStart = System.nanoTime();
    byte[] probeKey = Lb4KeyCodec.INSTANCE.encode(master(0));
    long[] times = new long[samples];
    long[] writes = new long[samples];
    for (int i = 0; i < samples; i++) {
      int want = i % 2 == 0 ? perService + 1 : perService;
      long t0 = System.nanoTime();
      client.resource(ClusterObjects.slice(0, want)).update();
      writes[i] = (System.nanoTime() - t0) / 10_000;
      while (true) {
        Optional<byte[]> v = servicesMap.lookup(probeKey);
        if (v.isPresent() && Lb4ServiceCodec.INSTANCE.decode(v.get()).count() == want) {
          break;
        }
        if (System.nanoTime() - t0 > Duration.ofSeconds(30).toNanos()) {
          requireAlive(agent, work);
          throw new IllegalStateException("change not in the datapath after 30 s");
        }
        Thread.sleep(0, 200_000);
      }
      times[i] = (System.nanoTime() - t0) / 10_000; // hundredths of a millisecond
    }
    stop.set(true);
    churn.shutdownNow();
    double rate = background.get() / ((System.nanoTime() - churnStart) / 1e9);
    Arrays.sort(times);
    Arrays.sort(writes);
    return new Latency(times, writes, samples, rate);
  }

  private static void populate(KubernetesClient client, int services, int perService)
      throws InterruptedException {
    client.resource(ClusterObjects.node()).create();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int s = 0; s < services; s++) {
      int i = s;
      pool.submit(() -> {
        client.resource(ClusterObjects.service(i)).create();
        client.resource(ClusterObjects.slice(i, perService)).create();
      });
    }
    pool.shutdown();
    pool.awaitTermination(30, TimeUnit.MINUTES);
  }

  private static Lb4Key master(int service) {
    return new Lb4Key(ClusterObjects.vip(service), PORT, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
  }

  private static BpfMap awaitPinned(Path pin, Process agent) throws Exception {
    while (!Files.exists(pin)) {
      if (!agent.isAlive()) {
        throw new IllegalStateException("agent exited " + agent.exitValue());
      }
      Thread.sleep(20);
    }
    return BpfMap.openPinned(pin);
  }

  private static void requireAlive(Process agent, Path work) throws IOException {
    if (!agent.isAlive()) {
      throw new IllegalStateException("agent exited " + agent.exitValue() + ":\n"
          + Files.readString(work.resolve("agent.log")));
    }
  }

  private static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** Heap used / committed in MiB, summed over the generations jcmd GC.heap_info lists. */
  private static String heap(long pid) {
    try {
      Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
      long total = 0;
      long used = 0;
      java.util.regex.Matcher m = java.util.regex.Pattern
          .compile("generation\\s+total (\\d+)K, used (\\d+)K").matcher(out);
      while (m.find()) {
        total += Long.parseLong(m.group(1));
        used += Long.parseLong(m.group(2));
      }
      return total == 0 ? "n/a" : (used / 1024) + " MiB used of " + (total / 1024) + " MiB";
    } catch (IOException | InterruptedException e) {
      return "n/a";
    }
  }

  private static String kubeconfig(String url) {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: " + url
        + "\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n"
        + "current-context: bench\nusers:\n- name: bench\n  user:\n    token: bench\n";
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  /** The JVM options and malloc setting the agent process really runs with. */
  private static String jvm(long pid) throws IOException {
    String options = ProcessHandle.of(pid).flatMap(p -> p.info().arguments())
        .map(args -> String.join(" ", java.util.Arrays.stream(args)
            .takeWhile(a -> !a.equals("-jar")).toList()))
        .orElse("?");
    String arenas = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")))
        .lines().flatMap(l -> java.util.Arrays.stream(l.split("\0")))
        .filter(e -> e.startsWith("MALLOC_ARENA_MAX=")).findFirst().orElse("MALLOC_ARENA_MAX unset");
    return "JVM options `" + options + "`, " + arenas;
  }

  private static void write(Path results, int services, int perService, double populate,
      double sync, long rssSync, String heapSync, long rssChurn, String heapChurn, Latency l,
      String javaOpts) throws IOException {
    Files.createDirectories(results);
    String md = String.format(Locale.ROOT, """
        # Control plane: %,d Services x %d endpoints (%,d endpoints)

        The agent runs as its own process, started by `bin/anetd agent` (%s) against
        fabric8's CRUD mock API server in the benchmark's JVM; the maps are real pinned BPF maps.
        A background thread updates other Services' slices while each sample changes one
        endpoint of a probe Service and times until its master entry shows the new count.

        | measure | value | goal |
        |---|---|---|
        | initial sync (agent start -> every frontend in lb4_services) | %.1f s | |
        | agent RSS after sync | %,d MiB | <= 300 MiB |
        | agent RSS after %d changes under churn | %,d MiB | <= 300 MiB |
        | heap after sync | %s | |
        | heap after churn | %s | |
        | EndpointSlice change -> datapath, p50 | %.1f ms | <= 100 ms |
        | EndpointSlice change -> datapath, p99 | %.1f ms | <= 1000 ms |
        | of which the API write's round trip (mock server), p50 / p99 | %.1f / %.1f ms | |
        | background updates of other slices during the samples | %.1f /s | |

        (Populating the API server took %.1f s and is not part of the agent's numbers.)
        """, services, perService, services * perService, javaOpts, sync, rssSync / 1024,
        l.samples(), rssChurn / 1024, heapSync, heapChurn, l.percentile(50), l.percentile(99),
        l.writePercentile(50), l.writePercentile(99), l.backgroundRate(), populate);
    String json = String.format(Locale.ROOT, "{\"services\": %d, \"endpoints_per_service\": %d,"
        + " \"initial_sync_s\": %.3f, \"rss_after_sync_mib\": %d, \"rss_after_churn_mib\": %d,"
        + " \"latency_p50_ms\": %.2f, \"latency_p99_ms\": %.2f, \"samples\": %d,"
        + " \"background_updates_per_s\": %.1f}%n", services, perService, sync, rssSync / 1024,
        rssChurn / 1024, l.percentile(50), l.percentile(99), l.samples(), l.backgroundRate());
    Files.writeString(results.resolve("control-plane.md"), md);
    Files.writeString(results.resolve("control-plane.json"), json);
    System.out.print(md);
  }
}
