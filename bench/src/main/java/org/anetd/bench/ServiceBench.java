package org.anetd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.service.IncrementalServiceCompiler;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.anetd.agent.service.ServiceIds;
import org.anetd.agent.datapath.ConntrackPurger;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.Lxc4Info;
import org.anetd.agent.datapath.LxcWriter;
import org.anetd.agent.datapath.SocketLoadBalancer;
import org.anetd.agent.endpoint.AttachmentKey;
import org.anetd.agent.endpoint.BpfEndpointDatapath;
import org.anetd.agent.endpoint.Endpoint;
import org.anetd.agent.endpoint.EndpointPublisher;
import org.anetd.agent.endpoint.IpRouteLinkOps;
import org.anetd.agent.endpoint.LinkOps;
import org.anetd.agent.endpoint.PodRef;
import org.anetd.agent.datapath.Protocol;

/**
 * Service traffic at scale, side by side in one run: a client pod to a server pod directly, to a
 * ClusterIP through kube-proxy-style iptables DNAT, and to a ClusterIP through bpf_lxc with the
 * service maps written by {@link LoadBalancerWriter}; at N services, rounds interleaved. Also the
 * cost of programming the maps. Writes RESULTS_DIR/services.{md,json}.
 *
 * <p>Each configuration is its own node (node netns + client pod + 2 server pods, wired like
 * PodNetwork in the agent tests), so no configuration's rules, programs, sockets or TIME_WAITs
 * touch another's:
 *
 * <pre>
 *  plain: no programs, no netfilter rules         -> "direct"        client -> service N's backends
 *  lxcD:  bpf_lxc + bpf_sock, the same N services  -> "direct-lxc"    client -> service N's backends
 *  lxcN:  bpf_lxc + bpf_sock, N services          -> "anetd"         client -> ClusterIP of service N
 *  lxcP:  bpf_lxc only (bpf-lb-sock false), N svc -> "anetd-pkt"     client -> ClusterIP of service N
 *  lxc1:  bpf_lxc + bpf_sock, 1 service           -> "anetd-1"       client -> ClusterIP of service 1
 *  kp:    iptables KUBE-SERVICES with N services  -> "iptables"      client -> ClusterIP of service N
 * </pre>
 *
 * Every configuration also has a threaded cgroup v2 directory of its own; its client threads
 * (svc_bench) enter it and its client pod's netns once, and bpf_sock's programs (socket-level load
 * balancing, bpf-lb-sock) are linked to the cgroups of the configurations that have them, so no
 * other configuration's connect() meets them.
 *
 * Service i (1-based) is 10.96.0.0+i:80/TCP with two backends, 10.64.0.0+i:8080 (server pod s1)
 * and 10.65.0.0+i:8080 (s2): every service has its own backend addresses; the node routes
 * 10.64/16 to s1 and 10.65/16 to s2, which accept any of them (a local route on lo).
 *
 * <p>Pods of the bpf_lxc nodes are attached with the agent's own code
 * ({@link BpfEndpointDatapath#reattach}: programs plus the endpoint's anetd_lxc entry), so traffic
 * between them takes the datapath's local delivery as on a real node. The measured service's
 * backend addresses are entered in anetd_lxc as addresses of s1 and s2 (with s1's and s2's
 * delivery info), as a real backend pod's own address is. Every pod address (and those backend
 * addresses) has the ipcache entry the agent writes: an identity and the local endpoint id, so the
 * policy hooks track every connection in its endpoints' policy conntrack entries as on a real node;
 * no policy selects the pods, so nothing is dropped. The agent's conntrack GC runs on every node.
 *
 * <p>Usage: ServiceBench SVC_BENCH_BINARY RESULTS_DIR (env: BENCH_QUICK=1, BENCH_SVC_SIZES, BENCH_SVC_ROUNDS,
 * BENCH_SVC_SECONDS, BENCH_SVC_THREADS, BENCH_IPTABLES=nft|legacy)
 */
public final class ServiceBench {
  static final String CLIENT = "198.18.0.2";
  static final String S1 = "198.18.0.3";
  static final String S2 = "198.18.0.4";
  static final int VIP_BASE = Ipv4.parse("10.96.0.0").bits();
  static final int BACKEND1_BASE = Ipv4.parse("10.64.0.0").bits();
  static final int BACKEND2_BASE = Ipv4.parse("10.65.0.0").bits();
  static final int SERVICE_PORT = 80;
  static final int TARGET_PORT = 8080;
  /** Pod identities: this plus the endpoint id (any value above the reserved ones would do). */
  private static final long BENCH_IDENTITY = 70_000;
  /** The agent's conntrack GC interval (Agent.CT_GC_INTERVAL). */
  private static final long CT_GC_SECONDS = 30;

  static final List<String> CONFIGS = List.of("direct", "direct-lxc", "iptables", "anetd",
      "anetd-pkt", "anetd-1");

  private final BenchLab lab;
  private final Path binary;
  private final int threads;

  ServiceBench(BenchLab lab, Path binary, int threads) {
    this.lab = lab;
    this.binary = binary;
    this.threads = threads;
  }

  /** One measurement: short-connection rate, its latency, one-stream throughput. */
  record Sample(double perSecond, double p50Us, double p99Us, long errors, double gbps,
      double clientCpuUs) {}

  /** A node netns with a client pod and two server pods. */
  record Node(String name, String ns, String client, String s1, String s2) {}

  public static void main(String[] args) throws Exception {
    Path binary = Path.of(args[0]);
    Path results = Path.of(args[1]);
    boolean quick = "1".equals(System.getenv("BENCH_QUICK"));
    String sizesEnv = System.getenv("BENCH_SVC_SIZES"); // e.g. "50000": a focused run
    List<Integer> sizes = sizesEnv != null && !sizesEnv.isBlank()
        ? java.util.Arrays.stream(sizesEnv.split(",")).map(String::strip).map(Integer::valueOf)
            .toList()
        : quick ? List.of(1, 1000) : List.of(1, 1000, 10_000, 50_000);
    int rounds = intEnv("BENCH_SVC_ROUNDS", quick ? 2 : 10);
    // Seconds of one interleaved round over all configurations, and its slice length.
    double seconds = Double.parseDouble(System.getenv().getOrDefault("BENCH_SVC_SECONDS",
        quick ? "2.5" : "10"));
    double streamSeconds = Double.parseDouble(System.getenv().getOrDefault(
        "BENCH_SVC_STREAM_SECONDS", quick ? "1" : "5"));
    double slice = Double.parseDouble(System.getenv().getOrDefault("BENCH_SVC_SLICE_MS", "50"));
    int threads = intEnv("BENCH_SVC_THREADS", 4);
    String iptables = System.getenv().getOrDefault("BENCH_IPTABLES", "nft");
    int progServices = quick ? 1000 : 10_000;
    int progRuns = quick ? 2 : 3;
    int progUpdates = quick ? 50 : 200;

    String startLoad = Files.readString(Path.of("/proc/loadavg")).strip();
    long started = System.nanoTime();
    Map<Integer, Map<String, List<Sample>>> samples = new LinkedHashMap<>();
    Map<Integer, double[]> setup = new LinkedHashMap<>(); // N -> {bpf write s, iptables s}
    Map<Integer, double[][]> packetCost = new LinkedHashMap<>(); // N -> {{N svc}, {1 svc}}
    Programming prog;
    try (BenchLab lab = new BenchLab()) {
      ServiceBench bench = new ServiceBench(lab, binary, threads);
      DatapathSettings base = new DatapathSettings(DatapathSettings.DEFAULT_PIN_ROOT, 262_144,
          262_144, 65_536, 16_384);
      Datapath dpN = Datapath.load(base.withPinRoot(lab.bpffsDir("lxcn")));
      lab.onClose(dpN::close);
      Datapath dp1 = Datapath.load(base.withPinRoot(lab.bpffsDir("lxc1")));
      lab.onClose(dp1::close);
      // direct-lxc has maps of its own: anetd_lxc is keyed by pod address, and every node's
      // pods have the same addresses
      Datapath dpD = Datapath.load(base.withPinRoot(lab.bpffsDir("lxcd")));
      lab.onClose(dpD::close);
      Datapath dpP = Datapath.load(base.withPinRoot(lab.bpffsDir("lxcp")));
      lab.onClose(dpP::close);
      // The agent deletes expired conntrack entries every 30 s; so does the benchmark, for every
      // node (without it the tables fill and every new connection evicts one)
      ScheduledExecutorService gc = Executors.newSingleThreadScheduledExecutor();
      lab.onClose(gc::shutdownNow);
      List<Datapath> gcNodes = List.of(dpN, dp1, dpD, dpP);
      gc.scheduleWithFixedDelay(() -> gcNodes.forEach(ServiceBench::collectConntrackGarbage),
          CT_GC_SECONDS, CT_GC_SECONDS, TimeUnit.SECONDS);
      Map<String, Path> cgroups = bench.cgroups();
      bench.socketLoadBalancing(dpN, cgroups.get("anetd"));
      bench.socketLoadBalancing(dp1, cgroups.get("anetd-1"));
      bench.socketLoadBalancing(dpD, cgroups.get("direct-lxc"));

      Node plain = bench.node("plain", null);
      Node kp = bench.node("kp", null);
      Node lxcN = bench.node("lxcn", dpN);
      Node lxcD = bench.node("lxcd", dpD);
      Node lxc1 = bench.node("lxc1", dp1);
      Node lxcP = bench.node("lxcp", dpP);
      Services one = new Services();
      one.grow(1);
      dp1.loadBalancerWriter().write(one.services, one.backends, one.revNat);
      bench.backendAddresses(dp1, 1);

      Services many = new Services();
      PacketCost packets = new PacketCost();
      LoadBalancerWriter writer = dpN.loadBalancerWriter();
      LoadBalancerWriter writerD = dpD.loadBalancerWriter();
      LoadBalancerWriter writerP = dpP.loadBalancerWriter();
      for (int n : sizes) {
        long t0 = System.nanoTime();
        many.grow(n);
        writer.write(many.services, many.backends, many.revNat);
        double bpfSeconds = (System.nanoTime() - t0) / 1e9;
        writerD.write(many.services, many.backends, many.revNat);
        writerP.write(many.services, many.backends, many.revNat);
        bench.backendAddresses(dpN, n);
        bench.backendAddresses(dpP, n);
        bench.backendAddresses(dpD, n);
        t0 = System.nanoTime();
        bench.iptablesRestore(kp, iptables, n);
        double iptSeconds = (System.nanoTime() - t0) / 1e9;
        setup.put(n, new double[] {bpfSeconds, iptSeconds});
        System.out.printf(Locale.ROOT, "N=%d: maps written in %.2f s, iptables-%s-restore %.2f s%n",
            n, bpfSeconds, iptables, iptSeconds);

        Map<String, String[]> targets = new LinkedHashMap<>();
        String vip = vip(n).toString();
        // The baselines connect to the very endpoints service N balances to (a random one per
        // connection): the only difference left is the service translation.
        String endpoints = new Ipv4(BACKEND1_BASE + n) + "," + new Ipv4(BACKEND2_BASE + n);
        targets.put("direct", new String[] {plain.client, endpoints, "" + TARGET_PORT});
        targets.put("direct-lxc", new String[] {lxcD.client, endpoints, "" + TARGET_PORT});
        targets.put("iptables", new String[] {kp.client, vip, "" + SERVICE_PORT});
        targets.put("anetd", new String[] {lxcN.client, vip, "" + SERVICE_PORT});
        targets.put("anetd-pkt", new String[] {lxcP.client, vip, "" + SERVICE_PORT});
        targets.put("anetd-1", new String[] {lxc1.client, vip(1).toString(), "" + SERVICE_PORT});
        java.util.function.Function<String, String> spec = c -> {
          String[] t = targets.get(c);
          return NetworkNamespace.named(t[0]) + "," + t[1].replace(',', '+') + "," + t[2] + ","
              + cgroups.get(c);
        };
        for (String c : CONFIGS) {
          // Warm-up, and a check that every path works at all. From the configuration's cgroup
          // like the rounds: a connection translated per packet leaves TIME_WAITs on the server
          // that a socket-balanced one on the same ports then has to get past (their TCP
          // timestamps start at another offset), which is not what the rounds measure.
          double[] w = bench.mix(false, slice, 0.3, List.of(spec.apply(c))).get(0);
          if (w[0] == 0) {
            throw new IllegalStateException(c + ": no connection in the warm-up");
          }
        }
        Map<String, List<Sample>> perConfig = new LinkedHashMap<>();
        CONFIGS.forEach(c -> perConfig.put(c, new ArrayList<>()));
        for (int r = 0; r < rounds; r++) {
          // Rotated: each round starts the slice cycle with another configuration.
          List<String> order = new ArrayList<>();
          for (int k = 0; k < CONFIGS.size(); k++) {
            order.add(CONFIGS.get((k + r) % CONFIGS.size()));
          }
          List<String> specs = order.stream().map(spec).toList();
          Map<String, Long> cpuBefore = new LinkedHashMap<>();
          order.forEach(c -> cpuBefore.put(c, usageUsec(cgroups.get(c))));
          List<double[]> rr = bench.mix(false, slice, seconds, specs);
          Map<String, Long> cpuUsed = new LinkedHashMap<>();
          order.forEach(c -> cpuUsed.put(c, usageUsec(cgroups.get(c)) - cpuBefore.get(c)));
          List<double[]> st = bench.mix(true, 2 * slice, streamSeconds, specs);
          for (int k = 0; k < order.size(); k++) {
            String c = order.get(k);
            // The configuration's client threads run only in its slices: its cgroup's CPU time
            // over its connections (rate x its share of the round).
            double connections = rr.get(k)[0] * seconds / order.size();
            Sample s = new Sample(rr.get(k)[0], rr.get(k)[1], rr.get(k)[2],
                (long) (rr.get(k)[3] + st.get(k)[1]), st.get(k)[0],
                connections > 0 ? cpuUsed.get(c) / connections : Double.NaN);
            perConfig.get(c).add(s);
          }
          for (String c : CONFIGS) {
            Sample s = perConfig.get(c).get(r);
            System.out.printf(Locale.ROOT, "N=%d round %d %-10s %,9.0f conn/s p99 %6.0f us"
                + " %6.2f Gbit/s client CPU %5.1f us/conn%s%n", n, r + 1, c, s.perSecond(),
                s.p99Us(), s.gbps(), s.clientCpuUs(),
                s.errors() > 0 ? " errors " + s.errors() : "");
          }
        }
        samples.put(n, perConfig);
        if (dpN.socketTranslations() == 0) {
          throw new IllegalStateException("anetd's connections were not load-balanced at the"
              + " socket: bpf_sock counted no translation");
        }
        // In-kernel cost of from_container per packet, N services vs 1, interleaved.
        List<double[]> costN = new ArrayList<>();
        List<double[]> cost1 = new ArrayList<>();
        for (int r = 0; r < 5; r++) {
          costN.add(packets.measure(dpN.fromContainer(), vip(n), SERVICE_PORT, S1, TARGET_PORT));
          cost1.add(packets.measure(dp1.fromContainer(), vip(1), SERVICE_PORT, S1, TARGET_PORT));
        }
        double[][] cost = new double[2][3];
        for (int k = 0; k < 3; k++) {
          final int kk = k;
          cost[0][k] = median(costN.stream().map(c -> c[kk]).toList());
          cost[1][k] = median(cost1.stream().map(c -> c[kk]).toList());
        }
        packetCost.put(n, cost);
        System.out.printf(Locale.ROOT, "N=%d from_container ns: new %.0f/%.0f established %.0f/%.0f"
            + " non-service %.0f/%.0f (N/1)%n", n, cost[0][0], cost[1][0], cost[0][1], cost[1][1],
            cost[0][2], cost[1][2]);
      }
      prog = programming(lab, base, progServices, 5, progRuns, progUpdates);
    }
    double minutes = (System.nanoTime() - started) / 60e9;
    String endLoad = Files.readString(Path.of("/proc/loadavg")).strip();
    Files.createDirectories(results);
    Report report = new Report(sizes, rounds, seconds, streamSeconds, slice, threads, iptables, samples, setup,
        packetCost, prog,
        startLoad, endLoad, minutes, quick);
    Files.writeString(results.resolve("services.md"), report.markdown());
    Files.writeString(results.resolve("services.json"), report.json());
    System.out.print(report.markdown());
  }

  /** usage_usec of a cgroup v2 directory's cpu.stat (present without the cpu controller). */
  static long usageUsec(Path cgroup) {
    try {
      for (String line : Files.readAllLines(cgroup.resolve("cpu.stat"))) {
        if (line.startsWith("usage_usec ")) {
          return Long.parseLong(line.substring("usage_usec ".length()).strip());
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    throw new IllegalStateException(cgroup + "/cpu.stat has no usage_usec");
  }

  private static int intEnv(String name, int dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : Integer.parseInt(v.strip());
  }

  static Ipv4 vip(int i) {
    return new Ipv4(VIP_BASE + i);
  }

  /**
   * A threaded cgroup v2 directory per configuration under one of this run (a threaded domain),
   * removed at close after the links on them.
   */
  Map<String, Path> cgroups() throws IOException {
    Path mount = SocketLoadBalancer.cgroup2Mount().orElseThrow(
        () -> new IllegalStateException("no cgroup v2 hierarchy mounted: bpf-lb-sock needs one"));
    parentCgroup = mount.resolve("anetdb-" + ProcessHandle.current().pid() + "-svc");
    Files.createDirectories(parentCgroup);
    lab.onClose(() -> BenchLab.deleteCgroup(parentCgroup));
    Map<String, Path> dirs = new LinkedHashMap<>();
    for (String c : CONFIGS) {
      Path dir = Files.createDirectories(parentCgroup.resolve(c));
      Files.writeString(dir.resolve("cgroup.type"), "threaded");
      dirs.put(c, dir);
    }
    return dirs;
  }

  private Path parentCgroup;

  /** What the agent's conntrack GC does every CT_GC_SECONDS, on one node's maps. */
  static void collectConntrackGarbage(Datapath dp) {
    dp.conntrackTables().forEach(t -> ConntrackPurger.purgeExpired(t, System.nanoTime()));
  }

  /** bpf-lb-sock for one configuration: dp's socket programs linked to its cgroup. */
  void socketLoadBalancing(Datapath dp, Path cgroup) {
    SocketLoadBalancer sock = dp.socketLoadBalancer();
    sock.enable(cgroup, 0); // the configurations' clients are pods: no socket is the host's
    lab.onClose(sock::disable);
  }

  /** Node netns + client, s1, s2 pods; bpf_lxc on the host veths when dp is given. */
  Node node(String label, Datapath dp) throws IOException {
    String node = lab.netns(label);
    lab.in(node, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0");
    // Unknown destinations leave through an uplink to a "world" netns, as in PodNetwork; proxy
    // ARP for the pods' gateway 169.254.1.1 needs that route.
    lab.veth(node, "up0", lab.netns(label + "-world"), "eth0");
    lab.ip(node, "route", "add", "default", "dev", "up0");
    String client = pod(node, label + "-client", "hv-c", CLIENT, dp);
    String s1 = pod(node, label + "-s1", "hv-s1", S1, dp);
    String s2 = pod(node, label + "-s2", "hv-s2", S2, dp);
    lab.ip(node, "route", "add", "10.64.0.0/16", "via", S1, "dev", "hv-s1", "onlink");
    lab.ip(node, "route", "add", "10.65.0.0/16", "via", S2, "dev", "hv-s2", "onlink");
    lab.ip(s1, "route", "add", "local", "10.64.0.0/16", "dev", "lo");
    lab.ip(s2, "route", "add", "local", "10.65.0.0/16", "dev", "lo");
    // Short connections: a wide port range; the servers close first, so TIME_WAIT is theirs.
    lab.in(client, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535",
        "net.ipv4.tcp_tw_reuse=1");
    for (String s : List.of(s1, s2)) {
      lab.in(s, "sysctl", "-qw", "net.core.somaxconn=4096", "net.ipv4.tcp_max_syn_backlog=4096");
      Process p = lab.spawn(s, binary.toString(), "serve", "" + TARGET_PORT);
      String line = new String(p.getInputStream().readNBytes(10), StandardCharsets.US_ASCII);
      if (!line.startsWith("listening")) {
        throw new IllegalStateException("server in " + s + " did not start: " + line);
      }
    }
    return new Node(label, node, client, s1, s2);
  }

  private String pod(String node, String label, String hveth, String ip, Datapath dp) {
    String ns = lab.netns(label);
    lab.veth(node, hveth, ns, "eth0");
    lab.ip(ns, "addr", "add", ip + "/32", "dev", "eth0");
    lab.ip(ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
    lab.ip(ns, "route", "add", "default", "via", "169.254.1.1");
    lab.in(node, "sysctl", "-qw", "net.ipv4.conf." + hveth + ".proxy_arp=1",
        "net.ipv4.neigh." + hveth + ".proxy_delay=0");
    lab.ip(node, "route", "add", ip + "/32", "dev", hveth);
    if (dp != null) { // detached when the netns (and the veth) goes away
      attachAsEndpoint(node, hveth, ns, ip, dp);
    }
    return ns;
  }

  /**
   * Attaches bpf_lxc to a pod's host veth the way the agent attaches an endpoint:
   * {@link BpfEndpointDatapath#reattach}, which also writes its anetd_lxc entry.
   */
  private void attachAsEndpoint(String node, String hveth, String pod, String ip, Datapath dp) {
    Path nodeNs = NetworkNamespace.named(node);
    LinkOps links = new IpRouteLinkOps();
    LinkOps.Link host = links.link(nodeNs, hveth).orElseThrow();
    LinkOps.Link eth0 = links.link(NetworkNamespace.named(pod), "eth0").orElseThrow();
    Endpoint e = new Endpoint(++endpoints, new AttachmentKey("bench-" + pod, "eth0"),
        PodRef.UNKNOWN, Ipv4.parse(ip), hveth, host.ifindex(), host.mac(), eth0.mac(),
        NetworkNamespace.named(pod).toString());
    new BpfEndpointDatapath(dp.fromContainer(), dp.toContainer(), nodeNs, EndpointPublisher.NONE,
        lxc(dp), dp.conntrackTables()).reattach(e);
    ipcache(dp, Ipv4.parse(ip), e.id());
  }

  /**
   * The ipcache entry the agent writes for every pod: its identity and, for a pod of this node, its
   * endpoint id. With it the policy hooks find a local endpoint and track each connection in
   * its policy conntrack entry, as on a real node (no policy selects it: nothing is dropped).
   */
  private static void ipcache(Datapath dp, Ipv4 address, int endpointId) {
    dp.map(Datapath.IPCACHE4).update(Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(address)),
        Ipcache4ValueCodec.INSTANCE.encode(new Ipcache4Value(BENCH_IDENTITY + endpointId,
            new Ipv4(0), endpointId)));
  }

  private final Map<Datapath, LxcWriter> lxcWriters = new java.util.HashMap<>();
  private int endpoints;

  private LxcWriter lxc(Datapath dp) {
    return lxcWriters.computeIfAbsent(dp, Datapath::lxcWriter);
  }

  /** Service i's backend addresses are s1's and s2's: delivered like the pods' own addresses. */
  void backendAddresses(Datapath dp, int i) {
    LxcWriter lxc = lxc(dp);
    Lxc4Info s1 = lxc.find(Ipv4.parse(S1)).orElseThrow();
    Lxc4Info s2 = lxc.find(Ipv4.parse(S2)).orElseThrow();
    lxc.put(new Ipv4(BACKEND1_BASE + i), s1);
    lxc.put(new Ipv4(BACKEND2_BASE + i), s2);
    ipcache(dp, new Ipv4(BACKEND1_BASE + i), s1.endpointId());
    ipcache(dp, new Ipv4(BACKEND2_BASE + i), s2.endpointId());
  }

  /** {connections/s, p50 us, p99 us, errors}. */
  double[] rr(String ns, String ips, String port, double secs) {
    String out = lab.in(ns, binary.toString(), "rr", ips, port, "" + threads, "" + secs);
    return new double[] {num(out, "per_s"), num(out, "p50_us"), num(out, "p99_us"),
        num(out, "errors")};
  }

  /**
   * One interleaved run over all targets (svc_bench mix / mixstream): per target, {conn/s, p50 us,
   * p99 us, errors} or {Gbit/s, errors}.
   */
  List<double[]> mix(boolean stream, double sliceMs, double secs, List<String> specs) {
    // svc_bench starts in the run's threaded domain; its threads move into the targets' cgroups.
    List<String> cmd = new ArrayList<>(List.of("bash", "-c",
        "echo $$ > " + parentCgroup.resolve("cgroup.procs") + " && exec \"$@\"", "bash",
        binary.toString(), stream ? "mixstream" : "mix", "" + sliceMs, "" + secs));
    if (!stream) {
      cmd.add("" + threads);
    }
    cmd.addAll(specs);
    String out = BenchLab.run(cmd);
    List<double[]> res = new ArrayList<>();
    for (String line : out.strip().split("\n")) {
      res.add(stream ? new double[] {num(line, "gbit_per_s"), num(line, "errors")}
          : new double[] {num(line, "per_s"), num(line, "p50_us"), num(line, "p99_us"),
              num(line, "errors")});
    }
    if (res.size() != specs.size()) {
      throw new IllegalStateException("svc_bench answered " + out);
    }
    return res;
  }

  private static double num(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": ([0-9.]+)").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("no " + key + " in " + json);
    }
    return Double.parseDouble(m.group(1));
  }

  /**
   * kube-proxy's iptables mode, nat table, as it writes it: KUBE-SERVICES with one rule per
   * service (the measured service N last), KUBE-SVC-* choosing an endpoint with statistic random
   * probabilities, KUBE-SEP-* with the hairpin mark and DNAT; KUBE-MARK-MASQ, KUBE-POSTROUTING and
   * the KUBE-NODEPORTS jump at the end of KUBE-SERVICES. Loaded in one iptables-restore.
   */
  private void iptablesRestore(Node kp, String backend, int n) throws IOException,
      InterruptedException {
    Path file = Files.createTempFile("anetd-svc-bench", ".rules");
    try {
      StringBuilder chains = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n"
          + ":INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
          + ":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
          + ":KUBE-POSTROUTING - [0:0]\n");
      StringBuilder rules = new StringBuilder(
          "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
          + "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
          + "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\""
          + " -j KUBE-POSTROUTING\n"
          + "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
          + "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
          + "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n"
          + "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\""
          + " -j MASQUERADE --random-fully\n");
      for (int i = 1; i <= n; i++) {
        String name = "bench/svc-" + i + ":http";
        String svc = "KUBE-SVC-" + hash(name + "tcp");
        String[] eps = {new Ipv4(BACKEND1_BASE + i).toString(),
            new Ipv4(BACKEND2_BASE + i).toString()};
        String vip = vip(i).toString();
        chains.append(':').append(svc).append(" - [0:0]\n");
        rules.append("-A KUBE-SERVICES -d ").append(vip).append("/32 -p tcp -m comment --comment \"")
            .append(name).append(" cluster IP\" -m tcp --dport ").append(SERVICE_PORT)
            .append(" -j ").append(svc).append('\n');
        rules.append("-A ").append(svc).append(" ! -s 198.18.0.0/16 -d ").append(vip)
            .append("/32 -p tcp -m comment --comment \"").append(name)
            .append(" cluster IP\" -m tcp --dport ").append(SERVICE_PORT)
            .append(" -j KUBE-MARK-MASQ\n");
        for (int e = 0; e < eps.length; e++) {
          String sep = "KUBE-SEP-" + hash(name + "tcp" + eps[e] + ":" + TARGET_PORT);
          chains.append(':').append(sep).append(" - [0:0]\n");
          rules.append("-A ").append(svc).append(" -m comment --comment \"").append(name)
              .append(" -> ").append(eps[e]).append(':').append(TARGET_PORT).append('"');
          if (e < eps.length - 1) {
            rules.append(String.format(Locale.ROOT,
                " -m statistic --mode random --probability %.11f", 1.0 / (eps.length - e)));
          }
          rules.append(" -j ").append(sep).append('\n');
          rules.append("-A ").append(sep).append(" -s ").append(eps[e]).append("/32 -m comment")
              .append(" --comment \"").append(name).append("\" -j KUBE-MARK-MASQ\n");
          rules.append("-A ").append(sep).append(" -p tcp -m comment --comment \"").append(name)
              .append("\" -m tcp -j DNAT --to-destination ").append(eps[e]).append(':')
              .append(TARGET_PORT).append('\n');
        }
      }
      rules.append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE:"
          + " this must be the last rule in this chain\" -m addrtype --dst-type LOCAL"
          + " -j KUBE-NODEPORTS\nCOMMIT\n");
      Files.writeString(file, chains.append(rules));
      Process p = new ProcessBuilder("ip", "netns", "exec", kp.ns(),
          "iptables-" + backend + "-restore").redirectInput(file.toFile())
          .redirectErrorStream(true).start();
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("iptables-" + backend + "-restore failed: "
            + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** kube-proxy's chain suffix shape: 16 characters of a SHA-256 (hex here, base32 there). */
  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().withUpperCase().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Desired content of the three LB maps, as the agent computes it, grown service by service. */
  static final class Services {
    final Map<Lb4Key, Lb4Service> services = new LinkedHashMap<>();
    final Map<Long, Lb4Backend> backends = new LinkedHashMap<>();
    final Map<Integer, Lb4ReverseNat> revNat = new LinkedHashMap<>();
    private int count;
    private final int perService;

    Services() {
      this(2);
    }

    Services(int perService) {
      this.perService = perService;
    }

    void grow(int n) {
      for (int i = count + 1; i <= n; i++) {
        Lb4Key master = new Lb4Key(vip(i), SERVICE_PORT, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
        for (int e = 0; e < perService; e++) {
          long id = (long) (i - 1) * perService + e + 1;
          // backends of service i: 10.64+e.x.y, i.e. distinct addresses per service
          backends.put(id, new Lb4Backend(new Ipv4(BACKEND1_BASE + (e << 16) + i), TARGET_PORT,
              Protocol.TCP, Lb4Backend.STATE_ACTIVE));
          services.put(master.withSlot(e + 1), Lb4Service.slot(id, i, 0));
        }
        revNat.put(i, new Lb4ReverseNat(vip(i), SERVICE_PORT));
        services.put(master, Lb4Service.master(perService, i, 0, 0));
      }
      count = Math.max(count, n);
    }

    /** Adds one backend to service i (the next slot, the master's count + 1). */
    void addBackend(int i, long id) {
      Lb4Key master = new Lb4Key(vip(i), SERVICE_PORT, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
      Lb4Service m = services.get(master);
      backends.put(id, new Lb4Backend(new Ipv4(Ipv4.parse("10.80.0.0").bits() + (int) id),
          TARGET_PORT, Protocol.TCP, Lb4Backend.STATE_ACTIVE));
      services.put(master.withSlot(m.count() + 1), Lb4Service.slot(id, m.revNatId(), 0));
      services.put(master, Lb4Service.master(m.count() + 1, m.revNatId(), m.flags(), 0));
    }
  }

  record Programming(int services, int perService, List<Double> fromScratchSeconds,
      List<Double> updateMillis) {}

  /**
   * The agent's own path from objects to maps, without the API server (the control-plane
   * benchmark measures that): N Services with E endpoints each as fabric8 objects. From scratch:
   * fresh maps, the first compile ({@link IncrementalServiceCompiler}) and a whole write, as a
   * starting agent does. Then, on the full maps, one EndpointSlice replaced by a copy with one more
   * endpoint: compile and {@link LoadBalancerWriter#apply} of the changes, as every later pass.
   */
  private static Programming programming(BenchLab lab, DatapathSettings base, int n, int e,
      int runs, int updates) throws IOException {
    List<Double> scratch = new ArrayList<>();
    List<Double> update = new ArrayList<>();
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> slices = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      services.add(ClusterObjects.service(i));
      slices.add(ClusterObjects.slice(i, e));
    }
    ServiceCompilerConfig config = new ServiceCompilerConfig(base.lbMapMax(),
        ServiceCompilerConfig.NodePortRange.DEFAULT);
    for (int r = 0; r < runs + 1; r++) { // run 0 warms the JIT and is discarded
      Path pins = lab.bpffsDir("prog" + r);
      try (Datapath dp = Datapath.load(base.withPinRoot(pins))) {
        LoadBalancerWriter w = dp.loadBalancerWriter();
        IncrementalServiceCompiler compiler = new IncrementalServiceCompiler(ServiceIds.empty());
        List<EndpointSlice> current = new ArrayList<>(slices);
        long t0 = System.nanoTime();
        compiler.compile(state(1, services, current), config);
        LoadBalancerWriter.Result res = w.write(compiler.desiredServices(),
            compiler.desiredBackends(), compiler.desiredRevNat());
        compiler.committed();
        double secs = (System.nanoTime() - t0) / 1e9;
        int entries = n * (1 + e) + n * e + n;
        if (res.writes().created() != entries) {
          throw new IllegalStateException("writer created " + res.writes());
        }
        if (r > 0) {
          scratch.add(secs);
        }
        System.out.printf(Locale.ROOT, "program %d x %d from scratch: %.3f s%s%n", n, e, secs,
            r == 0 ? " (warm-up)" : "");
        if (r == runs) {
          for (int u = 0; u < updates + 20; u++) { // the first 20 warm up
            int svc = (int) ((u * 7919L) % n);
            int size = current.get(svc).getEndpoints().size();
            current.set(svc, ClusterObjects.slice(svc, size == e ? e + 1 : e));
            ClusterState state = state(u + 2, services, current);
            t0 = System.nanoTime();
            IncrementalServiceCompiler.Pass pass = compiler.compile(state, config);
            res = w.apply(pass.changes());
            compiler.committed();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (res.writes().changes() != 3) { // backend, its slot, the master
              throw new IllegalStateException("one-endpoint change wrote " + res.writes());
            }
            if (u >= 20) {
              update.add(ms);
            }
          }
        }
      } finally {
        BenchLab.deleteTree(pins);
      }
    }
    return new Programming(n, e, scratch, update);
  }

  private static ClusterState state(long version, List<Service> services,
      List<EndpointSlice> slices) {
    return new ClusterState(version, ClusterObjects.NODE, services, List.copyOf(slices),
        List.of(), List.of(), List.of(), List.of(ClusterObjects.node()));
  }

  static double median(List<Double> xs) {
    return percentile(xs, 50);
  }

  static double percentile(List<Double> xs, double p) {
    if (xs.isEmpty()) {
      return Double.NaN;
    }
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int idx = (int) Math.ceil(p / 100.0 * a.length) - 1;
    return a[Math.max(0, Math.min(a.length - 1, idx))];
  }

  /** Tables and JSON. Ratios are medians of per-round ratios (both sides from the same round). */
  record Report(List<Integer> sizes, int rounds, double seconds, double streamSeconds,
      double slice, int threads, String iptables,
      Map<Integer, Map<String, List<Sample>>> samples, Map<Integer, double[]> setup,
      Map<Integer, double[][]> packetCost, Programming prog, String startLoad, String endLoad, double minutes, boolean quick) {

    double med(int n, String c, ToDoubleFunction<Sample> f) {
      return median(samples.get(n).get(c).stream().map(f::applyAsDouble).toList());
    }

    double ratio(int n, String a, String b, ToDoubleFunction<Sample> f) {
      return median(ratios(n, a, b, f));
    }

    /** Median of per-round ratios with their interquartile range. */
    String ratioText(int n, String a, String b, ToDoubleFunction<Sample> f) {
      List<Double> r = ratios(n, a, b, f);
      return String.format(Locale.ROOT, "%.3f (%.2f–%.2f)", median(r), percentile(r, 25),
          percentile(r, 75));
    }

    List<Double> ratios(int n, String a, String b, ToDoubleFunction<Sample> f) {
      List<Sample> as = samples.get(n).get(a);
      List<Sample> bs = samples.get(n).get(b);
      List<Double> r = new ArrayList<>();
      for (int i = 0; i < Math.min(as.size(), bs.size()); i++) {
        r.add(f.applyAsDouble(as.get(i)) / f.applyAsDouble(bs.get(i)));
      }
      return r;
    }

    long errors(int n) {
      return samples.get(n).values().stream().flatMap(List::stream).mapToLong(Sample::errors)
          .sum();
    }

    static String verdict(boolean met) {
      return met ? "met" : "**missed**";
    }

    String markdown() {
      StringBuilder md = new StringBuilder();
      md.append(String.format(Locale.ROOT, """
          # Service datapath: direct vs iptables (kube-proxy style) vs anetd (bpf_lxc)%s

          %s. Machine: %s, %d cores, kernel %s; shared with other test runs (load average %s at
          the start, %s at the end), so absolute numbers are noisy: **the ratios are the result**.
          One run of %.1f minutes. At each N, %d rounds. A round is %.1f s of short connections
          (`bench/native/svc_bench mix`, %d client threads: connect, send a request line, read the
          answer until the server closes, close) interleaved over all configurations in %.0f ms
          slices (each cycle of 6 slices gives one to every configuration, in a random order;
          every configuration has client threads of its own, which entered its client pod and
          its threaded cgroup before the first slice and sleep outside its slices), then %.1f s
          of one TCP stream at
          a time, a new stream per %.0f ms slice, interleaved the same way (`svc_bench mixstream`).
          Slow noise from the shared machine thus hits every configuration alike. At N = 1,
          anetd and anetd-1 are the same setup on two nodes: their ratio is an A/A test of the
          method. Tables show medians over rounds; ratios are
          medians of per-round ratios.

          Each configuration has its own node netns with a client pod and 2 server pods
          (single-threaded epoll servers, `svc_bench serve`), wired like the CNI wires pods
          (veth, /32 routes, proxy ARP):

          | configuration | node | client connects to |
          |---|---|---|
          | direct | no BPF programs, no netfilter rules | service N's two endpoints themselves (a random one per connection) |
          | direct-lxc | bpf_lxc on every host veth and bpf_sock on its cgroup, maps of its own with the same N services | service N's two endpoints themselves (a random one per connection) |
          | iptables | kube-proxy-style nat rules for N services (`iptables-%s-restore`), no programs | ClusterIP of service N |
          | anetd | `bpf-lb-sock: true`: bpf_lxc on every host veth, bpf_sock (cgroup connect4/getpeername4) on its cgroup, N services written by `LoadBalancerWriter` | ClusterIP of service N |
          | anetd-pkt | `bpf-lb-sock: false`: bpf_lxc only, translating every packet, N services | ClusterIP of service N |
          | anetd-1 | as anetd, 1 service (a second node measured in the same rounds) | ClusterIP of service 1 |

          Every configuration has a threaded cgroup v2 directory of its own; the socket programs
          are linked (`SocketLoadBalancer.enable`, as the agent links them to the node's cgroup
          root) to the cgroups of direct-lxc, anetd and anetd-1 only, so no other configuration's
          connect() meets them. With them, anetd's connect() to the ClusterIP is rewritten to a
          backend before the SYN exists: the connection then costs what direct-lxc's does. The run
          checks that anetd's connections were translated at the socket (bpf_sock's counter).
          The frontend is noted per socket for getpeername() and the note deleted when the
          socket is closed (`sock_release`).

          Service i is 10.96.0.0+i:80/TCP with 2 endpoints of its own, 10.64.0.0+i:8080 (server
          pod 1) and 10.65.0.0+i:8080 (server pod 2); the node routes those /16s to the server pods,
          which accept any address in them. The measured service is always the last one created,
          and in iptables its KUBE-SERVICES rule is the last service rule (the worst case of a
          linear chain). iptables rules are kube-proxy's nat table (KUBE-SERVICES, KUBE-SVC-* with
          `statistic --mode random`, KUBE-SEP-* with KUBE-MARK-MASQ and DNAT, KUBE-POSTROUTING,
          KUBE-NODEPORTS jump last); kube-proxy's filter-table rules are not included.

          Pods of the bpf_lxc nodes are attached with the agent's own code
          (`BpfEndpointDatapath.reattach`: the programs and the endpoint's `anetd_lxc` entry), so
          traffic between them takes local delivery (`bpf_redirect_peer`, no node IP stack), as on
          a real node; the measured service's backend addresses are entered in `anetd_lxc` as
          addresses of server pods 1 and 2, as a backend pod's own address is. Every pod address
          (and those backend addresses) has the ipcache entry the agent writes for a pod of its
          node (an identity, the endpoint id): the policy hooks (egress, and the receiver's
          ingress on local delivery) find a local endpoint, and, with no policy selecting it,
          track each connection in that endpoint's policy conntrack entry (so that a later policy
          never cuts it), as on a real node. direct-lxc pays that too; direct does not. Every
          node's conntrack tables get the agent's GC every 30 s (`ConntrackPurger.purgeExpired`),
          as the agent runs it.

          """, quick ? " (BENCH_QUICK smoke run)" : "",
          ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")),
          cpuModel(), Runtime.getRuntime().availableProcessors(), kernel(), startLoad, endLoad,
          minutes, rounds, seconds, threads, slice, streamSeconds, 2 * slice, iptables));

      md.append("## Short connections per second (median)\n\n");
      table(md, s -> s.perSecond(), "%,.0f");
      md.append("\n## Connection latency p99, µs (connect → answer → close; median of rounds)\n\n");
      table(md, s -> s.p99Us(), "%,.0f");
      md.append("\n## One TCP stream, Gbit/s (median)\n\n");
      table(md, s -> s.gbps(), "%.2f");
      md.append("\n## Client CPU per short connection, µs (median)\n\nCPU time of the"
          + " configuration's client threads (its cgroup's `cpu.stat`) over the connections they"
          + " made in the round: the client's syscalls and what the kernel does in them,"
          + " including its own packets' way through the programs and into the server pod (the"
          + " server's own syscalls are not in it). Less noisy than the rate, and where a"
          + " per-connection cost of the socket programs shows.\n\n");
      table(md, s -> s.clientCpuUs(), "%.1f");

      md.append("\n## Ratios and goals\n\nMedian of per-round ratios; in brackets the interquartile"
          + " range of the per-round connection-rate ratios (how much the shared machine moved"
          + " them).\n\n| ratio | N | connections/s | p99 latency (lower is better) | stream |"
          + " goal | |\n|---|---|---|---|---|---|---|\n");
      ratioRows(md, "anetd / direct", "anetd", "direct", n -> "connections/s >= 0.95",
          n -> verdict(ratio(n, "anetd", "direct", Sample::perSecond) >= 0.95));
      ratioRows(md, "anetd-pkt / direct (per-packet translation)", "anetd-pkt", "direct",
          n -> "", n -> "");
      ratioRows(md, "anetd / direct-lxc", "anetd", "direct-lxc", n -> "", n -> "");
      ratioRows(md, "direct-lxc / direct (cost of the programs alone)", "direct-lxc", "direct",
          n -> "", n -> "");
      ratioRows(md, "anetd / iptables", "anetd", "iptables",
          n -> n == 10_000 ? "connections/s >= 3" : "",
          n -> n == 10_000 ? verdict(ratio(n, "anetd", "iptables", Sample::perSecond) >= 3) : "");
      ratioRows(md, "anetd-pkt / iptables", "anetd-pkt", "iptables", n -> "", n -> "");
      ratioRows(md, "anetd at N / anetd-1 (same rounds)", "anetd", "anetd-1",
          n -> n == 50_000 ? "connections/s >= 0.95" : "",
          n -> n == 50_000 ? verdict(ratio(n, "anetd", "anetd-1", Sample::perSecond) >= 0.95)
              : "");
      if (!sizes.contains(10_000) || !sizes.contains(50_000)) {
        md.append("\nThis smoke run has no N = 10,000 / 50,000: the iptables and scale goals are"
            + " not evaluated.\n");
      }

      md.append("\n## from_container per packet, in the kernel (BPF_PROG_TEST_RUN), ns\n\n"
          + "Crafted frames run through the live programs and maps of the anetd node (N"
          + " services) and of the anetd-1 node (1 service), alternately, 5 rounds (median):"
          + " the per-packet path, which anetd-pkt takes for every packet and anetd for what the"
          + " socket programs leave to it (UDP, affinity, refusals):"
          + " the SYN of a new service connection (a fresh source port each run, median of 2,000"
          + " single runs), a packet of an established service connection and a packet to a pod"
          + " IP (mean of 200,000 runs each). This is the datapath's own cost, free of the"
          + " scheduling noise above.\n\n| N | new service connection (SYN) N / 1 svc |"
          + " established N / 1 svc | non-service N / 1 svc | SYN ratio N/1 |\n"
          + "|---|---|---|---|---|\n");
      for (int n : sizes) {
        double[][] c = packetCost.get(n);
        md.append(String.format(Locale.ROOT, "| %,d | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f |"
            + " %.2f |%n", n, c[0][0], c[1][0], c[0][1], c[1][1], c[0][2], c[1][2],
            c[0][0] / c[1][0]));
      }
      md.append("\n## Setup at each N (not part of the traffic numbers)\n\n| N | LB maps grown to N"
          + " services through LoadBalancerWriter | iptables-" + iptables + "-restore of the full"
          + " ruleset | client errors during the rounds |\n|---|---|---|---|\n");
      for (int n : sizes) {
        md.append(String.format(Locale.ROOT, "| %,d | %.2f s | %.2f s | %d |%n", n,
            setup.get(n)[0], setup.get(n)[1], errors(n)));
      }

      md.append(String.format(Locale.ROOT, """

          ## Map programming cost (the agent's compile and write, real pinned maps, no traffic)

          | measure | value |
          |---|---|
          | %,d services x %d backends from scratch (%,d map entries), p50 of %d runs | %.3f s |
          | one EndpointSlice changed (one more endpoint) on the full maps, p50 of %d | %.2f ms |
          | same, p99 | %.2f ms |

          From objects to maps as the agent does it, without the API server: the first pass
          compiles every Service (`IncrementalServiceCompiler`) and writes the whole desired state;
          a later pass compiles only the Service whose EndpointSlice object changed and
          `LoadBalancerWriter.apply` writes its 3 changed entries (backend, slot, master) of
          %,d. The API server and informer side are measured by the control-plane benchmark.
          """, prog.services(), prog.perService(),
          prog.services() * (1 + prog.perService()) + prog.services() * prog.perService()
              + prog.services(), prog.fromScratchSeconds().size(),
          median(prog.fromScratchSeconds()), prog.updateMillis().size(),
          median(prog.updateMillis()), percentile(prog.updateMillis(), 99),
          prog.services() * (2 + 2 * prog.perService())));
      return md.toString();
    }

    private void ratioRows(StringBuilder md, String label, String a, String b,
        java.util.function.IntFunction<String> goal, java.util.function.IntFunction<String> met) {
      for (int n : sizes) {
        md.append(String.format(Locale.ROOT, "| %s | %,d | %s | %.3f | %.3f | %s | %s |%n", label,
            n, ratioText(n, a, b, Sample::perSecond), ratio(n, a, b, Sample::p99Us),
            ratio(n, a, b, Sample::gbps), goal.apply(n), met.apply(n)));
      }
    }

    private void table(StringBuilder md, ToDoubleFunction<Sample> f, String fmt) {
      md.append("| N services |");
      CONFIGS.forEach(c -> md.append(' ').append(c).append(" |"));
      md.append("\n|---|");
      CONFIGS.forEach(c -> md.append("---|"));
      md.append('\n');
      for (int n : sizes) {
        md.append(String.format(Locale.ROOT, "| %,d |", n));
        for (String c : CONFIGS) {
          md.append(' ').append(String.format(Locale.ROOT, fmt, med(n, c, f))).append(" |");
        }
        md.append('\n');
      }
    }

    String json() {
      StringBuilder j = new StringBuilder("{\n");
      j.append(String.format(Locale.ROOT, "  \"date\": \"%s\", \"quick\": %s, \"rounds\": %d,"
          + " \"seconds\": %.2f, \"stream_seconds\": %.2f, \"slice_ms\": %.0f, \"threads\": %d, \"iptables_backend\": \"%s\",%n"
          + "  \"machine\": {\"cpu\": \"%s\", \"cores\": %d, \"kernel\": \"%s\", \"loadavg_start\":"
          + " \"%s\", \"loadavg_end\": \"%s\"},%n  \"sizes\": {%n",
          ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), quick, rounds,
          seconds, streamSeconds, slice, threads, iptables, cpuModel(), Runtime.getRuntime().availableProcessors(),
          kernel(), startLoad, endLoad));
      for (int k = 0; k < sizes.size(); k++) {
        int n = sizes.get(k);
        j.append("    \"").append(n).append("\": {\n");
        for (String c : CONFIGS) {
          List<Sample> ss = samples.get(n).get(c);
          j.append(String.format(Locale.ROOT, "      \"%s\": {\"conn_per_s\": %.0f, \"p99_us\":"
              + " %.0f, \"p50_us\": %.0f, \"gbit_per_s\": %.3f, \"client_cpu_us_per_conn\":"
              + " %.2f, \"rounds_conn_per_s\": %s},%n", c,
              med(n, c, Sample::perSecond), med(n, c, Sample::p99Us), med(n, c, Sample::p50Us),
              med(n, c, Sample::gbps), med(n, c, Sample::clientCpuUs), Arrays.toString(ss.stream()
                  .mapToLong(s -> Math.round(s.perSecond())).toArray())));
        }
        j.append(String.format(Locale.ROOT, "      \"ratios_conn_per_s\": {\"anetd/direct\": %.3f,"
            + " \"anetd/direct-lxc\": %.3f, \"direct-lxc/direct\": %.3f, \"anetd/iptables\": %.3f,"
            + " \"anetd/anetd-1\": %.3f, \"anetd-pkt/direct\": %.3f, \"anetd-pkt/iptables\":"
            + " %.3f},%n", ratio(n, "anetd", "direct", Sample::perSecond),
            ratio(n, "anetd", "direct-lxc", Sample::perSecond),
            ratio(n, "direct-lxc", "direct", Sample::perSecond),
            ratio(n, "anetd", "iptables", Sample::perSecond),
            ratio(n, "anetd", "anetd-1", Sample::perSecond),
            ratio(n, "anetd-pkt", "direct", Sample::perSecond),
            ratio(n, "anetd-pkt", "iptables", Sample::perSecond)));
        j.append(String.format(Locale.ROOT, "      \"ratios_p99\": {\"anetd/direct\": %.3f,"
            + " \"anetd/iptables\": %.3f, \"anetd/anetd-1\": %.3f},%n",
            ratio(n, "anetd", "direct", Sample::p99Us), ratio(n, "anetd", "iptables", Sample::p99Us),
            ratio(n, "anetd", "anetd-1", Sample::p99Us)));
        j.append(String.format(Locale.ROOT, "      \"ratios_stream\": {\"anetd/direct\": %.3f,"
            + " \"anetd/iptables\": %.3f, \"anetd/anetd-1\": %.3f},%n",
            ratio(n, "anetd", "direct", Sample::gbps), ratio(n, "anetd", "iptables", Sample::gbps),
            ratio(n, "anetd", "anetd-1", Sample::gbps)));
        double[][] pc = packetCost.get(n);
        j.append(String.format(Locale.ROOT, "      \"from_container_ns\": {\"syn_new\": [%.0f, %.0f],"
            + " \"established\": [%.0f, %.0f], \"non_service\": [%.0f, %.0f], \"order\":"
            + " \"[N services, 1 service]\"},%n", pc[0][0], pc[1][0], pc[0][1], pc[1][1], pc[0][2],
            pc[1][2]));
        j.append(String.format(Locale.ROOT, "      \"setup_s\": {\"lb_maps\": %.3f, \"iptables_restore\":"
            + " %.3f}, \"client_errors\": %d%n    }%s%n", setup.get(n)[0], setup.get(n)[1],
            errors(n), k + 1 < sizes.size() ? "," : ""));
      }
      j.append(String.format(Locale.ROOT, "  },%n  \"programming\": {\"services\": %d,"
          + " \"backends_per_service\": %d, \"from_scratch_s_p50\": %.3f, \"from_scratch_runs\": %s,"
          + " \"one_backend_change_ms_p50\": %.3f, \"one_backend_change_ms_p99\": %.3f,"
          + " \"changes\": %d},%n", prog.services(), prog.perService(),
          median(prog.fromScratchSeconds()), prog.fromScratchSeconds(), median(prog.updateMillis()),
          percentile(prog.updateMillis(), 99), prog.updateMillis().size()));
      List<String> goals = new ArrayList<>();
      for (int n : sizes) {
        goals.add(String.format(Locale.ROOT, "{\"goal\": \"anetd/direct conn_per_s >= 0.95\","
            + " \"n\": %d, \"met\": %s}", n, ratio(n, "anetd", "direct", Sample::perSecond) >= 0.95));
      }
      if (sizes.contains(10_000)) {
        goals.add(String.format(Locale.ROOT, "{\"goal\": \"anetd/iptables conn_per_s >= 3\","
            + " \"n\": 10000, \"met\": %s}",
            ratio(10_000, "anetd", "iptables", Sample::perSecond) >= 3));
      }
      if (sizes.contains(50_000)) {
        goals.add(String.format(Locale.ROOT, "{\"goal\": \"anetd at 50000 / anetd at 1 conn_per_s"
            + " >= 0.95\", \"n\": 50000, \"met\": %s}",
            ratio(50_000, "anetd", "anetd-1", Sample::perSecond) >= 0.95));
      }
      j.append("  \"goals\": [\n    ").append(String.join(",\n    ", goals)).append("\n  ]\n}\n");
      return j.toString();
    }

    static String cpuModel() {
      try {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.startsWith("model name")).findFirst()
            .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown CPU");
      } catch (IOException e) {
        return "unknown CPU";
      }
    }

    static String kernel() {
      return System.getProperty("os.version");
    }
  }
}
