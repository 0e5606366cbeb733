package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.config.ConfigKey;
import org.anetd.agent.daemon.Agent;
import org.anetd.agent.daemon.AgentOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running lab ({@code anetd lab up}). Start-up reads as its steps: state directory, API server,
 * world and node namespaces, Node objects, one agent per node, then the control loop (lab
 * controllers and kubelet, every {@link #PASS}). Everything made is recorded as an undo step and
 * {@link #close()} (also on a failed start) undoes it in reverse: pods (server, CNI DEL,
 * namespace), agents, namespaces, pins, API server, state directory.
 *
 * <pre>
 *   netns anetd-lab-world  198.18.255.254/24, routes to each node's pod CIDR
 *       ||  (veth up0 in the node / nN in world)
 *   netns anetd-lab-node-N 198.18.255.N/24, ip_forward, default via world; agent N in this JVM
 *       ||  (lxc... host veths, made by the CNI path)
 *   netns anetd-lab-pod-NS.NAME  eth0 198.18.N.x/32 (pod CIDR 198.18.N.0/24), EchoServer
 * </pre>
 */
public final class Lab implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Lab.class);
  static final Duration PASS = Duration.ofMillis(200);

  /**
   * @param stateDir where lab.json, kubeconfig, pod records and agent state go
   * @param kubeconfig a real cluster to use instead of the embedded API server
   * @param nodes how many lab nodes (1..200)
   * @param cniBinary the CNI plugin binary
   */
  public record Options(Path stateDir, Optional<Path> kubeconfig, int nodes, Path cniBinary) {
    public Options {
      if (nodes < 1 || nodes > 200) {
        throw new IllegalArgumentException("--nodes must be 1..200, got " + nodes);
      }
    }

    public static Options defaults(Path stateDir) {
      return new Options(stateDir, Optional.empty(), 1, EchoServerLauncher.cniBinary());
    }
  }

  private final Options options;
  private final Deque<Runnable> undo = new ArrayDeque<>();
  private final List<LabState.Node> nodes = new ArrayList<>();
  private final List<Agent> agents = new ArrayList<>();
  private EmbeddedApiServer api;
  private KubernetesClient client;
  private LabKubelet kubelet;
  private LabControllers controllers;
  private Thread loop;
  private volatile boolean stopping;
  private boolean closed;

  private Lab(Options options) {
    this.options = options;
  }

  /** Brings the lab up; on failure, removes what was made and throws. */
  public static Lab up(Options options) {
    Lab lab = new Lab(options);
    try {
      lab.stateDirectory();
      lab.apiServer();
      lab.world();
      for (int n = 1; n <= options.nodes(); n++) {
        lab.node(n);
      }
      lab.registerNodes();
      lab.agents();
      lab.startLoop();
      lab.record(true);
      return lab;
    } catch (RuntimeException e) {
      lab.close();
      throw e;
    }
  }

  public Path kubeconfig() {
    return options.kubeconfig().orElse(options.stateDir().resolve("kubeconfig"));
  }

  public KubernetesClient client() {
    return client;
  }

  public Path stateDir() {
    return options.stateDir();
  }

  public List<LabState.Node> nodes() {
    return List.copyOf(nodes);
  }

  /** Each node agent's `anetd status` text: what a failing lab check prints next to its probes. */
  public List<String> agentSummaries() {
    return agents.stream().map(Agent::summary).toList();
  }

  private boolean embedded() {
    return options.kubeconfig().isEmpty();
  }

  /** 1. The state directory; a lab already up is refused, leftovers of a dead one removed. */
  private void stateDirectory() {
    Optional<LabState.Lab> existing = LabState.readLab(options.stateDir());
    if (existing.isPresent() && ProcessHandle.of(existing.get().pid()).map(ProcessHandle::isAlive)
        .orElse(false)) {
      throw new IllegalStateException("a lab is already up (pid " + existing.get().pid()
          + ", state " + options.stateDir() + "): run `anetd lab down` first");
    }
    List<String> leftovers = Cmd.netnsList().stream().filter(n -> n.startsWith(LabState.PREFIX))
        .toList();
    if (!leftovers.isEmpty()) {
      throw new IllegalStateException("network namespaces of a lab exist (" + leftovers.get(0)
          + ", ...): another lab is up, or one was killed; run `anetd lab down` first");
    }
    LabDown.sweep(options.stateDir(), s -> LOG.info("removing leftovers: {}", s));
    try {
      Files.createDirectories(options.stateDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + options.stateDir(), e);
    }
    undo.push(() -> LabDown.deleteTree(options.stateDir()));
  }

  /** 2. The embedded API server and its kubeconfig, or the given cluster. */
  private void apiServer() {
    if (embedded()) {
      api = EmbeddedApiServer.start(0);
      undo.push(api::close);
      api.writeKubeconfig(kubeconfig());
      client = api.client();
    } else {
      try {
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(
            Files.readString(options.kubeconfig().get()))).build();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + options.kubeconfig().get(), e);
      }
    }
    undo.push(client::close);
    if (embedded()) {
      for (String ns : List.of("default", "kube-system")) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
            .addToLabels("kubernetes.io/metadata.name", ns).endMetadata().build()).create();
      }
    }
  }

  /** 3. The world namespace every node's uplink goes to. */
  private void world() {
    Cmd.run("ip", "netns", "add", LabState.WORLD_NETNS);
    undo.push(() -> Cmd.exec("ip", "netns", "del", LabState.WORLD_NETNS));
    Cmd.run("ip", "-n", LabState.WORLD_NETNS, "link", "set", "lo", "up");
    Cmd.run("ip", "netns", "exec", LabState.WORLD_NETNS, "sysctl", "-qw", "net.ipv4.ip_forward=1");
  }

  /** 4. Lab node N: namespace, uplink, forwarding, pod CIDR 198.18.N.0/24. */
  private void node(int n) {
    String name = LabState.nodeName(n);
    Cmd.run("ip", "netns", "add", name);
    undo.push(() -> Cmd.exec("ip", "netns", "del", name));
    String ip = "198.18.255." + n;
    String podCidr = "198.18." + n + ".0/24";
    Cmd.run("ip", "-n", name, "link", "set", "lo", "up");
    Cmd.run("ip", "link", "add", "anetd-lab-u" + n, "netns", name, "type", "veth", "peer", "name",
        "n" + n, "netns", LabState.WORLD_NETNS);
    Cmd.run("ip", "-n", name, "link", "set", "anetd-lab-u" + n, "name", "up0");
    Cmd.run("ip", "-n", name, "addr", "add", ip + "/24", "dev", "up0");
    Cmd.run("ip", "-n", name, "link", "set", "up0", "up");
    Cmd.run("ip", "-n", LabState.WORLD_NETNS, "link", "set", "n" + n, "up");
    if (n == 1) {
      Cmd.run("ip", "-n", LabState.WORLD_NETNS, "addr", "add", "198.18.255.254/24", "dev", "n1");
    }
    Cmd.run("ip", "-n", LabState.WORLD_NETNS, "route", "replace", podCidr, "via", ip, "dev",
        "n" + n, "onlink");
    Cmd.run("ip", "-n", name, "route", "add", "default", "via", "198.18.255.254", "dev", "up0",
        "onlink");
    Cmd.run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
    Path dir = options.stateDir().resolve("nodes").resolve(name);
    nodes.add(new LabState.Node(name, name, ip, podCidr, dir.resolve("cni.sock").toString(),
        LabState.BPF_ROOT.resolve(name).toString()));
  }

  /** 5. Node objects: pod CIDR, InternalIP, Ready. */
  private void registerNodes() {
    for (LabState.Node n : nodes) {
      Node node = new NodeBuilder().withNewMetadata().withName(n.name())
          .addToLabels("kubernetes.io/hostname", n.name()).addToLabels("anetd.io/lab", "true")
          .endMetadata().withNewSpec().withPodCIDR(n.podCidr()).withPodCIDRs(n.podCidr()).endSpec()
          .withNewStatus().addNewAddress().withType("InternalIP").withAddress(n.ip()).endAddress()
          .addNewAddress().withType("Hostname").withAddress(n.name()).endAddress()
          .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
          .build();
      client.nodes().resource(node).createOr(op -> op.update());
      if (!embedded()) {
        undo.push(() -> client.nodes().withName(n.name()).delete());
      }
    }
  }

  /** 6. One agent per node, in this JVM, its pods' veths in the node's namespace. */
  private void agents() {
    undo.push(() -> LabDown.deleteTree(LabState.BPF_ROOT));
    for (LabState.Node n : nodes) {
      Path dir = options.stateDir().resolve("nodes").resolve(n.name());
      Path config = dir.resolve("config");
      try {
        Files.createDirectories(config);
        Files.writeString(config.resolve(ConfigKey.BPF_ROOT.configName()), n.bpfRoot());
        Files.writeString(config.resolve(ConfigKey.HEALTH_SERVE_ADDR.configName()), "127.0.0.1:" + freePort());
        Files.writeString(config.resolve(ConfigKey.PROMETHEUS_SERVE_ADDR.configName()), "");
        // As deploy/'s cilium-config: NodePorts are served on the lab node's uplink.
        Files.writeString(config.resolve(ConfigKey.KUBE_PROXY_REPLACEMENT.configName()), "true");
        // Lab agents run on the host, not in a pod: socket load balancing would link its
        // programs to the host's cgroup root, under every process of the machine. Lab services
        // are translated per packet at the pod veths.
        Files.writeString(config.resolve(ConfigKey.BPF_LB_SOCK.configName()), "false");
        // The node's policy action log stays in the lab's state, not the machine's /var/log.
        Files.writeString(config.resolve(ConfigKey.POLICY_ACTION_LOG.configName()),
            policyActionLog(options.stateDir(), n.name()).toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + config, e);
      }
      AgentOptions agentOptions = new AgentOptions(n.name(), Optional.empty(), Optional.of(config),
          dir.resolve("state"), Duration.ofSeconds(30)).withCni(Path.of(n.cniSocket()),
          Optional.of(n.podCidr()), Optional.of(NetworkNamespace.named(n.netns())));
      Agent agent = Agent.start(agentOptions, client);
      agents.add(agent);
      undo.push(agent::close);
    }
  }

  /** Where lab node {@code node} writes its policy action log. */
  public static Path policyActionLog(Path stateDir, String node) {
    return stateDir.resolve("nodes").resolve(node).resolve("policy_action.log");
  }

  /** 7. The lab controllers and kubelet, one pass every {@link #PASS}. */
  private void startLoop() {
    kubelet = new LabKubelet(client, options.stateDir(), nodes, options.cniBinary());
    controllers = embedded()
        ? new LabControllers(client, nodes.stream().map(LabState.Node::name).toList(), 30000, 32767)
        : null;
    undo.push(() -> {
      stopping = true;
      if (loop != null) {
        loop.interrupt();
        try {
          loop.join(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      kubelet.stopAll();
    });
    loop = new Thread(this::runLoop, "anetd-lab");
    loop.start();
  }

  private void runLoop() {
    while (!stopping) {
      try {
        if (controllers != null) {
          controllers.sync();
        }
        List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
        kubelet.sync(pods);
      } catch (RuntimeException e) {
        if (!stopping) {
          LOG.warn("lab pass failed: {}", e.toString());
        }
      }
      try {
        Thread.sleep(PASS.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void record(boolean ready) {
    LabState.write(LabState.labFile(options.stateDir()), new LabState.Lab(ProcessHandle.current().pid(),
        client.getMasterUrl().toString(), kubeconfig().toString(), embedded(), nodes, ready));
  }

  /** Removes everything the lab made, in reverse order; safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    while (!undo.isEmpty()) {
      try {
        undo.pop().run();
      } catch (RuntimeException e) {
        LOG.warn("lab down: {}", e.toString());
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
