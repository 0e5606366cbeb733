package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.anyPeer;
import static org.anetd.agent.policy.Fixtures.anyPort;
import static org.anetd.agent.policy.Fixtures.block;
import static org.anetd.agent.policy.Fixtures.both;
import static org.anetd.agent.policy.Fixtures.cport;
import static org.anetd.agent.policy.Fixtures.expr;
import static org.anetd.agent.policy.Fixtures.named;
import static org.anetd.agent.policy.Fixtures.namespaces;
import static org.anetd.agent.policy.Fixtures.np;
import static org.anetd.agent.policy.Fixtures.pods;
import static org.anetd.agent.policy.Fixtures.port;
import static org.anetd.agent.policy.Fixtures.range;
import static org.anetd.agent.policy.Fixtures.rule;
import static org.anetd.agent.policy.Fixtures.sel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.LxcWriter;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.policy.TruthTableTest.Conn;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upstream-style NetworkPolicy truth tables over real traffic through bpf_lxc: namespaces x, y,
 * z with pods a, b, c, each serving TCP and UDP on 80 and 81, all on one node. Each case builds
 * the ClusterState, compiles it with {@link PolicyCompiler} and {@link IpcacheCompiler} as the
 * agent does, writes it with {@link Datapath#policyWriter()}, then probes all 81 pairs x {80, 81}
 * x {TCP, UDP} in parallel. Every probe is checked against two expectations: the verdict
 * {@link PolicyLookup} computes from the same compiled maps, and a table written here from the
 * policy's intent (so the datapath is not only compared with the compiler).
 *
 * <pre>
 *  netns x-a 198.18.1.1  x-b 198.18.1.2  x-c 198.18.1.3   (y: 198.18.2.*, z: 198.18.3.*)
 *      eth0 /32, default via 169.254.1.1; Java servers on TCP/UDP 80 and 81 answer their name
 *        ||
 *      hv-xa ... hv-zc   tc ingress: from_container, tc egress: to_container
 *  netns node: ip_forward=1, proxy_arp on hv-*, 198.18.N.P/32 dev hv-NP, node IP 198.18.255.1
 *              on lo (the Node's InternalIP: identity host in the ipcache), default dev up0
 *              (a veth to netns world, where unknown destinations end)
 * </pre>
 *
 * Probes bind a source port that is never reused in a run, so each is a new connection for
 * conntrack; a probe expected to fail waits {@value #DENIED_TIMEOUT_MS} ms.
 */
@KernelTest
@TestMethodOrder(MethodOrderer.MethodName.class)
class NetworkPolicyTrafficKernelTest {
  static final String NODE_IP = "198.18.255.1";
  static final int DENIED_TIMEOUT_MS = 400;
  static final int ALLOWED_TIMEOUT_MS = 3000;
  static final List<String> NAMESPACES = List.of("x", "y", "z");
  static final List<String> PODS = List.of("a", "b", "c");
  static final List<Pod> ALL = ninePods();

  private static NetnsLab.Netns node;
  private static final Map<String, PodNs> NETNS = new LinkedHashMap<>();
  private static Datapath datapath;
  private static PolicyWriter writer;
  private static IdentityAllocation allocation = IdentityAllocation.EMPTY;
  private static ExecutorService probes;
  private static ExecutorService handlers;
  private static final AtomicInteger SOURCE_PORTS = new AtomicInteger(20000);

  /** A pod's namespace and the address it serves on. */
  record PodNs(String key, String ip, NetnsLab.Netns ns) {}

  static List<Pod> ninePods() {
    return Fixtures.ninePods("198.18", p -> Fixtures.NODE);
  }

  static List<Namespace> clusterNamespaces(String... extraZLabels) {
    List<Namespace> out = new ArrayList<>();
    for (String n : NAMESPACES) {
      List<String> labels = new ArrayList<>(List.of("ns=" + n));
      if (n.equals("z")) {
        labels.addAll(List.of(extraZLabels));
      }
      out.add(Fixtures.ns(n, labels.toArray(String[]::new)));
    }
    return out;
  }

  @BeforeAll
  static void topology(NetnsLab lab) {
    probes = Executors.newFixedThreadPool(96);
    handlers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "netpol-server");
      t.setDaemon(true);
      return t;
    });
    lab.onClose(() -> {
      probes.shutdownNow();
      handlers.shutdownNow();
    });
    node = lab.netns("node");
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0");
    node.ip("addr", "add", NODE_IP + "/32", "dev", "lo");
    // A default route out of another interface: proxy ARP answers pods for 169.254.1.1 only
    // when the node has a route to it. What leaves the node ends in the world namespace.
    lab.veth(node, "up0", lab.netns("world"), "eth0");
    node.ip("route", "add", "default", "dev", "up0");
    // Counts what the node's stack routes to a pod: local delivery leaves it at 0 (netpol_6).
    node.run("nft", "add table ip probe");
    node.run("nft", "add chain ip probe routed { type filter hook forward priority 0; }");
    node.run("nft", "add rule ip probe routed ip daddr 198.18.0.0/16 counter");
    datapath = Datapath.load(new DatapathSettings(lab.bpffsDir("netpol"), 1024, 65536, 65536,
        16384));
    lab.onClose(datapath::close);
    writer = datapath.policyWriter();
    LxcWriter lxc = datapath.lxcWriter();
    for (Pod pod : ALL) {
      String key = Cluster.namespace(pod) + "-" + pod.getMetadata().getName();
      String ip = Cluster.primaryIpv4(pod).orElseThrow().toString();
      NetnsLab.Netns ns = lab.netns(key);
      String hveth = "hv-" + key.replace("-", "");
      lab.veth(node, hveth, ns, "eth0");
      ns.ip("addr", "add", ip + "/32", "dev", "eth0");
      ns.ip("route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
      ns.ip("route", "add", "default", "via", "169.254.1.1");
      node.run("sysctl", "-qw", "net.ipv4.conf." + hveth + ".proxy_arp=1",
          "net.ipv4.neigh." + hveth + ".proxy_delay=0");
      node.ip("route", "add", ip + "/32", "dev", hveth);
      // attached as the agent attaches endpoints: pod-to-pod traffic takes local delivery
      PodNetwork.attachAsEndpoint(node, hveth, ns, ip, NETNS.size() + 1,
          datapath.fromContainer(), datapath.toContainer(), lxc);
      serve(lab, ns, key);
      NETNS.put(key, new PodNs(key, ip, ns));
    }
  }

  @AfterAll
  static void forget() {
    NETNS.clear();
    allocation = IdentityAllocation.EMPTY;
  }

  /** TCP: the pod's name on a line, then echo. UDP: the pod's name after each datagram read. */
  private static void serve(NetnsLab lab, NetnsLab.Netns ns, String name) {
    for (int port : List.of(80, 81)) {
      ServerSocket tcp = ns.call(() -> {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(port), 256);
        return s;
      });
      DatagramSocket udp = ns.call(() -> new DatagramSocket(new InetSocketAddress(port)));
      lab.onClose(() -> {
        closeQuietly(tcp);
        udp.close();
      });
      handlers.execute(() -> acceptLoop(tcp, name));
      handlers.execute(() -> udpLoop(udp, name));
    }
  }

  private static void acceptLoop(ServerSocket server, String name) {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        handlers.execute(() -> {
          try (s) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write((name + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = reader(s);
            for (String line = in.readLine(); line != null; line = in.readLine()) {
              out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
              out.flush();
            }
          } catch (IOException | RuntimeException e) {
            // the client went away
          }
        });
      } catch (IOException | RuntimeException e) {
        return; // closed at the end of the class
      }
    }
  }

  private static void udpLoop(DatagramSocket s, String name) {
    byte[] buf = new byte[512];
    while (!s.isClosed()) {
      try {
        DatagramPacket in = new DatagramPacket(buf, buf.length);
        s.receive(in);
        byte[] out = (name + " " + new String(in.getData(), 0, in.getLength(),
            StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
        s.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
      } catch (IOException | RuntimeException e) {
        if (s.isClosed()) {
          return;
        }
      }
    }
  }

  private static void closeQuietly(ServerSocket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  private static BufferedReader reader(Socket s) throws IOException {
    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
  }

  /** Compiles the cluster as this node's agent would and writes the maps; returns the lookup. */
  static PolicyLookup apply(List<Namespace> namespaces, List<NetworkPolicy> policies) {
    ClusterState state = new ClusterState(1, Fixtures.NODE, List.of(), List.of(), ALL, namespaces,
        policies, List.of(Fixtures.node(Fixtures.NODE, NODE_IP)));
    Map<String, Integer> eps = Fixtures.endpoints(ALL, Fixtures.NODE);
    DesiredPolicy desired = PolicyCompiler.compile(state, eps, allocation);
    assertThat(desired.problems()).as("compile problems").isEmpty();
    Map<Ipcache4Key, Ipcache4Value> ipcache =
        IpcacheCompiler.compile(state, desired.identities(), eps);
    assertThat(ipcache.get(Ipcache4Key.host(Ipv4.parse(NODE_IP))).identity())
        .as("node IP is host").isEqualTo(Ipcache4Value.IDENTITY_HOST);
    writer.write(desired.entries(), desired.endpoints(), ipcache);
    allocation = desired.identities().allocation();
    return PolicyLookup.of(desired, ipcache);
  }

  /** Probes every pair, port and protocol; returns the probes that disagree with either table. */
  static List<String> probeAll(PolicyLookup lookup, Predicate<Conn> intent) throws Exception {
    record Probe(Conn conn, boolean compiled, boolean intended, Future<Boolean> got) {}
    List<Probe> all = new ArrayList<>();
    for (Pod from : ALL) {
      for (Pod to : ALL) {
        for (Protocol proto : List.of(Protocol.TCP, Protocol.UDP)) {
          for (int port : List.of(80, 81)) {
            Conn c = new Conn(Cluster.namespace(from), from.getMetadata().getName(),
                Cluster.namespace(to), to.getMetadata().getName(), proto, port);
            Ipv4 src = Cluster.primaryIpv4(from).orElseThrow();
            Ipv4 dst = Cluster.primaryIpv4(to).orElseThrow();
            boolean compiled = c.self() || lookup.egress(src, dst, proto, port).passes()
                && lookup.ingress(src, dst, proto, port).passes();
            boolean intended = c.self() || intent.test(c);
            PodNs f = NETNS.get(c.fromNs() + "-" + c.fromPod());
            PodNs t = NETNS.get(c.toNs() + "-" + c.toPod());
            int timeout = compiled && intended ? ALLOWED_TIMEOUT_MS : DENIED_TIMEOUT_MS;
            all.add(new Probe(c, compiled, intended,
                probes.submit(() -> connects(f, t, proto, port, timeout))));
          }
        }
      }
    }
    List<String> wrong = new ArrayList<>();
    for (Probe p : all) {
      boolean got = p.got().get();
      if (got != p.compiled() || got != p.intended()) {
        wrong.add(p.conn() + ": traffic " + got + ", PolicyLookup " + p.compiled()
            + ", intended " + p.intended());
      }
    }
    return wrong;
  }

  /** One probe: a new connection (fresh source port) that gets the target's name back. */
  static boolean connects(PodNs from, PodNs to, Protocol proto, int port, int timeoutMs) {
    int sport = SOURCE_PORTS.getAndIncrement();
    return from.ns().call(() -> proto == Protocol.TCP
        ? tcpProbe(sport, to, port, timeoutMs) : udpProbe(sport, to, port, timeoutMs));
  }

  private static boolean tcpProbe(int sport, PodNs to, int port, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(sport));
      s.connect(new InetSocketAddress(to.ip(), port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      return to.key().equals(reader(s).readLine());
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean udpProbe(int sport, PodNs to, int port, int timeoutMs) {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(sport))) {
      s.setSoTimeout(timeoutMs);
      s.connect(new InetSocketAddress(to.ip(), port));
      return (to.key() + " probe").equals(exchange(s, "probe"));
    } catch (IOException e) {
      return false;
    }
  }

  private static String exchange(DatagramSocket s, String message) throws IOException {
    byte[] out = message.getBytes(StandardCharsets.US_ASCII);
    s.send(new DatagramPacket(out, out.length));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    s.receive(in);
    return new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII);
  }

  static Arguments table(String name, Predicate<Conn> intent, NetworkPolicy... policies) {
    return Arguments.of(name, List.of(policies), intent);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        table("noPolicyAllowsEverything", c -> true),
        table("denyAllIngressIsolatesNamespaceX", c -> !c.toNs().equals("x"),
            np("x", "deny-all").types("Ingress").build()),
        table("allowFromSameNamespace", c -> !c.toNs().equals("x") || c.fromNs().equals("x"),
            np("x", "same-ns").ingress(rule(List.of(pods(sel())))).build()),
        table("allowFromNamespaceY", c -> !c.to("x", "a") || c.fromNs().equals("y"),
            np("x", "from-y").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=y"))))).build()),
        table("namespaceAndPodSelectorCombined", c -> !c.to("x", "a") || c.from("y", "b"),
            np("x", "and").select(sel("pod=a"))
                .ingress(rule(List.of(both(sel("ns=y"), sel("pod=b"))))).build()),
        table("namedPortResolvesOnTheTarget",
            c -> !c.to("x", "a") || c.proto() == Protocol.TCP && c.port() == 81,
            np("x", "named").select(sel("pod=a")).ingress(anyPeer(named("TCP", "serve-81-tcp")))
                .build()),
        table("endPortRanges",
            c -> !c.to("x", "a") || c.proto() == Protocol.TCP
                || c.proto() == Protocol.UDP && c.port() == 81,
            np("x", "ranges").select(sel("pod=a"))
                .ingress(anyPeer(range("TCP", 80, 81), range("UDP", 81, 90))).build()),
        table("ipBlockWithExcept", c -> !c.to("x", "a") || !c.from("y", "b"),
            np("x", "cidr").select(sel("pod=a"))
                .ingress(rule(List.of(block("198.18.0.0/16", "198.18.2.2/32")))).build()),
        table("egressDenyAllInY", c -> !c.fromNs().equals("y"),
            np("y", "deny-egress").types("Egress").build()),
        table("egressToNamespaceZOnUdp81",
            c -> !c.fromNs().equals("x") || c.toNs().equals("z") && c.proto() == Protocol.UDP
                && c.port() == 81,
            np("x", "to-z").types("Egress")
                .egress(rule(List.of(namespaces(sel("ns=z"))), port("UDP", 81))).build()),
        // The rest follows the upstream netpol e2e suite's themes.
        table("allowAllIngressNextToDenyAll", c -> true,
            np("x", "deny-all").types("Ingress").build(),
            np("x", "allow-all").ingress(anyPeer()).build()),
        table("denyAllIngressForPodAOnly", c -> !c.to("x", "a"),
            np("x", "deny-a").select(sel("pod=a")).types("Ingress").build()),
        table("allowFromPodBOfTheSameNamespace", c -> !c.to("x", "a") || c.from("x", "b"),
            np("x", "from-b").select(sel("pod=a")).ingress(rule(List.of(pods(sel("pod=b")))))
                .build()),
        table("allowFromPodsBOfAnyNamespace", c -> !c.to("x", "a") || c.fromPod().equals("b"),
            np("x", "from-any-b").select(sel("pod=a"))
                .ingress(rule(List.of(both(sel(), sel("pod=b"))))).build()),
        table("emptyNamespaceSelectorAllowsEveryPod", c -> true,
            np("x", "all-ns").select(sel("pod=a")).ingress(rule(List.of(namespaces(sel()))))
                .build()),
        table("ingressOnlyOnTcp80", c -> !c.to("x", "a") || c.proto() == Protocol.TCP
            && c.port() == 80,
            np("x", "tcp-80").select(sel("pod=a")).ingress(anyPeer(port("TCP", 80))).build()),
        table("ingressOnlyOnUdp81", c -> !c.to("x", "a") || c.proto() == Protocol.UDP
            && c.port() == 81,
            np("x", "udp-81").select(sel("pod=a")).ingress(anyPeer(port("UDP", 81))).build()),
        table("ingressOnEveryUdpPort", c -> !c.to("x", "a") || c.proto() == Protocol.UDP,
            np("x", "udp-any").select(sel("pod=a")).ingress(anyPeer(anyPort("UDP"))).build()),
        table("twoPoliciesAreAdditive", c -> !c.to("x", "a")
            || c.fromNs().equals("y") && c.proto() == Protocol.TCP && c.port() == 80
            || c.fromNs().equals("z") && c.proto() == Protocol.TCP && c.port() == 81,
            np("x", "y-80").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=y"))), port("TCP", 80))).build(),
            np("x", "z-81").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=z"))), port("TCP", 81))).build()),
        table("twoPeersInOneRuleAreOred", c -> !c.to("x", "a") || c.fromNs().equals("y")
            || c.from("x", "c"),
            np("x", "y-or-c").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(sel("ns=y")), pods(sel("pod=c"))))).build()),
        table("namespaceSelectorNotIn", c -> !c.to("x", "a") || !c.fromNs().equals("x"),
            np("x", "not-x").select(sel("pod=a"))
                .ingress(rule(List.of(namespaces(expr("ns", "NotIn", "x"))))).build()),
        table("podSelectorIn", c -> !c.to("x", "a") || c.fromNs().equals("x")
            && List.of("a", "b").contains(c.fromPod()),
            np("x", "in-ab").select(sel("pod=a"))
                .ingress(rule(List.of(pods(expr("pod", "In", "a", "b"))))).build()),
        table("podSelectorDoesNotExist", c -> !c.to("x", "a") || c.fromNs().equals("x"),
            np("x", "no-app").select(sel("pod=a"))
                .ingress(rule(List.of(pods(expr("app", "DoesNotExist"))))).build()),
        table("denyAllIngressEverywhere", c -> false,
            np("x", "deny").types("Ingress").build(), np("y", "deny").types("Ingress").build(),
            np("z", "deny").types("Ingress").build()),
        table("egressDenyAllForPodA", c -> !c.from("x", "a"),
            np("x", "deny-a-out").select(sel("pod=a")).types("Egress").build()),
        table("egressOnlyToPodBOfTheSameNamespace", c -> !c.from("x", "a") || c.to("x", "b"),
            np("x", "a-to-b").select(sel("pod=a")).types("Egress")
                .egress(rule(List.of(pods(sel("pod=b"))))).build()),
        table("egressOnlyOnTcp81", c -> !c.from("x", "a") || c.proto() == Protocol.TCP
            && c.port() == 81,
            np("x", "out-81").select(sel("pod=a")).types("Egress")
                .egress(anyPeer(port("TCP", 81))).build()),
        table("egressNamedPortResolvesOnThePeer", c -> !c.from("x", "a")
            || c.proto() == Protocol.UDP && c.port() == 80,
            np("x", "out-named").select(sel("pod=a")).types("Egress")
                .egress(anyPeer(named("UDP", "serve-80-udp"))).build()),
        table("egressIpBlockToNamespaceY", c -> !c.from("x", "a") || c.toNs().equals("y"),
            np("x", "out-cidr").select(sel("pod=a")).types("Egress")
                .egress(rule(List.of(block("198.18.2.0/24")))).build()),
        table("egressIpBlockExceptOnePod", c -> !c.from("x", "a") || !c.to("z", "c"),
            np("x", "out-except").select(sel("pod=a")).types("Egress")
                .egress(rule(List.of(block("198.18.0.0/16", "198.18.3.3/32")))).build()),
        table("ingressAndEgressIsolatedTogether", c -> !c.to("x", "a") && !c.from("x", "a"),
            np("x", "isolate-a").select(sel("pod=a")).types("Ingress", "Egress").build()),
        table("egressDenyAtTheSourceWinsOverAnAllowAtTheTarget",
            c -> !c.fromNs().equals("y") && !c.toNs().equals("x"),
            np("y", "deny-egress").types("Egress").build(),
            np("x", "from-y").ingress(rule(List.of(namespaces(sel("ns=y"))))).build()),
        table("policyOfAnotherNamespaceSelectsOnlyItsOwnPods", c -> !c.to("y", "a"),
            np("y", "deny-a").select(sel("pod=a")).types("Ingress").build()),
        table("endPortRangeEndsAt80", c -> !c.to("x", "a") || c.proto() == Protocol.TCP
            && c.port() == 80,
            np("x", "low-ports").select(sel("pod=a")).ingress(anyPeer(range("TCP", 1, 80)))
                .build()),
        table("ipBlockOfOnePod", c -> !c.to("x", "a") || c.from("y", "b"),
            np("x", "from-yb").select(sel("pod=a"))
                .ingress(rule(List.of(block("198.18.2.2/32")))).build()),
        table("namespaceAndPodSelectorOnOnePort", c -> !c.to("x", "a")
            || c.from("z", "c") && c.proto() == Protocol.UDP && c.port() == 80,
            np("x", "zc-udp80").select(sel("pod=a"))
                .ingress(rule(List.of(both(sel("ns=z"), sel("pod=c"))), port("UDP", 80))).build()),
        table("egressAndIngressBetweenTwoNamespaces",
            c -> (!c.fromNs().equals("x") || c.toNs().equals("y"))
                && (!c.toNs().equals("y") || c.fromNs().equals("x")),
            np("x", "only-to-y").types("Egress").egress(rule(List.of(namespaces(sel("ns=y")))))
                .build(),
            np("y", "only-from-x").ingress(rule(List.of(namespaces(sel("ns=x"))))).build()),
        table("allowAllEgressNextToDenyAll", c -> true,
            np("x", "deny-out").types("Egress").build(),
            np("x", "allow-out").types("Egress").egress(anyPeer()).build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void netpol_1_truthTable(String name, List<NetworkPolicy> policies, Predicate<Conn> intent)
      throws Exception {
    PolicyLookup lookup = apply(clusterNamespaces(), policies);
    assertThat(probeAll(lookup, intent)).as(name).isEmpty();
  }

  @Test
  void netpol_2_relabelingANamespaceChangesAccess() throws Exception {
    List<NetworkPolicy> fromTrusted = List.of(np("x", "from-trusted")
        .ingress(rule(List.of(namespaces(sel("team=trusted"))))).build());

    PolicyLookup before = apply(clusterNamespaces(), fromTrusted);
    assertThat(probeAll(before, c -> !c.toNs().equals("x"))).as("before relabel").isEmpty();

    PolicyLookup after = apply(clusterNamespaces("team=trusted"), fromTrusted);
    assertThat(probeAll(after, c -> !c.toNs().equals("x") || c.fromNs().equals("z")))
        .as("z labeled team=trusted").isEmpty();

    PolicyLookup back = apply(clusterNamespaces(), fromTrusted);
    assertThat(probeAll(back, c -> !c.toNs().equals("x"))).as("label removed").isEmpty();
  }

  @Test
  void netpol_3_deletingThePolicyRestoresAccess() throws Exception {
    PolicyLookup denied = apply(clusterNamespaces(),
        List.of(np("y", "deny-all").types("Ingress", "Egress").build()));
    assertThat(probeAll(denied, c -> !c.toNs().equals("y") && !c.fromNs().equals("y")))
        .as("y isolated both ways").isEmpty();

    PolicyLookup restored = apply(clusterNamespaces(), List.of());
    assertThat(probeAll(restored, c -> true)).as("policy deleted").isEmpty();
  }

  @Test
  void netpol_4_existingAllowedConnectionsSurviveANewDenyPolicy() throws Exception {
    apply(clusterNamespaces(), List.of());
    PodNs ya = NETNS.get("y-a");
    PodNs xa = NETNS.get("x-a");
    try (Socket tcp = ya.ns().call(() -> {
      Socket s = new Socket();
      s.connect(new InetSocketAddress(xa.ip(), 80), ALLOWED_TIMEOUT_MS);
      s.setSoTimeout(ALLOWED_TIMEOUT_MS);
      return s;
    }); DatagramSocket udp = ya.ns().call(() -> {
      DatagramSocket s = new DatagramSocket(new InetSocketAddress(SOURCE_PORTS.getAndIncrement()));
      s.setSoTimeout(ALLOWED_TIMEOUT_MS);
      s.connect(new InetSocketAddress(xa.ip(), 81));
      return s;
    })) {
      BufferedReader in = reader(tcp);
      assertThat(in.readLine()).isEqualTo("x-a");
      assertThat(echo(tcp, in, "before")).isEqualTo("before");
      assertThat(exchange(udp, "before")).isEqualTo("x-a before");

      apply(clusterNamespaces(), List.of(np("x", "deny-all").types("Ingress").build()));

      assertThat(echo(tcp, in, "after")).as("established TCP connection").isEqualTo("after");
      assertThat(exchange(udp, "after")).as("established UDP flow").isEqualTo("x-a after");
      assertThat(connects(ya, xa, Protocol.TCP, 80, DENIED_TIMEOUT_MS)).as("new TCP connection")
          .isFalse();
      assertThat(connects(ya, xa, Protocol.UDP, 81, DENIED_TIMEOUT_MS)).as("new UDP flow")
          .isFalse();
    }
  }

  @Test
  void netpol_5_theNodeReachesPodsOfAnIsolatedNamespace() throws Exception {
    apply(clusterNamespaces(), List.of(np("x", "deny-all").types("Ingress", "Egress").build()));
    PodNs xa = NETNS.get("x-a");

    assertThat(connects(new PodNs("node", NODE_IP, node), xa, Protocol.TCP, 80,
        ALLOWED_TIMEOUT_MS)).as("node -> x/a TCP 80 (host entry)").isTrue();
    assertThat(connects(new PodNs("node", NODE_IP, node), xa, Protocol.UDP, 81,
        ALLOWED_TIMEOUT_MS)).as("node -> x/a UDP 81 (host entry)").isTrue();
    assertThat(connects(NETNS.get("y-a"), xa, Protocol.TCP, 80, DENIED_TIMEOUT_MS))
        .as("y/a -> x/a TCP 80").isFalse();
  }

  @Test
  void netpol_6_podToPodProbesTookLocalDeliveryNotTheNodeStack() {
    assertThat(datapath.lxcWriter().entries()).as("anetd_lxc entries").hasSize(ALL.size());
    String chain = node.run("nft", "list chain ip probe routed");
    assertThat(chain).as("packets the node's stack routed to pods").contains("counter packets 0 ");
  }

  private static String echo(Socket s, BufferedReader in, String line) throws IOException {
    s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    String back = in.readLine();
    if (back == null) {
      throw new UncheckedIOException(new IOException("connection closed"));
    }
    return back;
  }
}
