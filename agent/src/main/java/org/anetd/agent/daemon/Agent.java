package org.anetd.agent.daemon;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.ConfigDirectoryWatcher;
import org.anetd.agent.config.ConfigHolder;
import org.anetd.agent.config.ConfigKey;
import org.anetd.agent.config.ConfigRejection;
import org.anetd.agent.config.DirectoryConfigSource;
import org.anetd.agent.config.EphemeralPortRangeReader;
import org.anetd.agent.config.LastAcceptedConfig;
import org.anetd.agent.config.ListenAddress;
import org.anetd.agent.config.PortRange;
import org.anetd.agent.datapath.ConntrackPurger;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.HostDevices;
import org.anetd.agent.datapath.HostSettings;
import org.anetd.agent.datapath.MapBackend;
import org.anetd.agent.datapath.SocketLoadBalancer;
import org.anetd.agent.endpoint.BpfEndpointDatapath;
import org.anetd.agent.endpoint.CniServer;
import org.anetd.agent.endpoint.EndpointManager;
import org.anetd.agent.endpoint.EndpointRegistry;
import org.anetd.agent.endpoint.IpRouteLinkOps;
import org.anetd.agent.endpoint.IpamStore;
import org.anetd.agent.endpoint.LivePod;
import org.anetd.agent.endpoint.PodCidr;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ClusterStateSource;
import org.anetd.agent.k8s.EventRecorder;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.logging.LoggingContext;
import org.anetd.agent.logging.LoggingSettings;
import org.anetd.agent.metrics.AgentMetrics;
import org.anetd.agent.metrics.HealthServer;
import org.anetd.agent.metrics.MetricsServer;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.policy.PolicyCompiler;
import org.anetd.agent.service.HealthCheckServer;
import org.anetd.agent.service.ServiceCompiler;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The node agent, as {@code anetd agent} runs it. Start-up reads like the list of its steps:
 * config, datapath, servers, cluster watch, policy action log, CNI server, reconcile loop. The loop takes the newest
 * cluster snapshot, merges in the addresses of endpoints kubelet has not reported yet, runs one
 * {@link Reconciler} pass and reports; a failed pass is retried with backoff and the datapath
 * keeps its last written state in the meantime (it never flushes maps because the API server is
 * unreachable or an object is bad).
 *
 * <p>Pod endpoints: the CNI server answers "not ready" until the pod CIDR is known (from the
 * options or this Node's spec.podCIDR in the first snapshot); then endpoints that survived a
 * restart get the new programs, and IPAM garbage collection runs against the API's pods of this
 * node, then every {@link #GC_INTERVAL}. The endpoint registry is the reconciler's view of local
 * endpoints ({@link EndpointSync}); the reconciler stays the only writer of the maps.
 */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

  static {
    // The JDK HTTP server (health, healthCheckNodePorts, metrics) reads a request with no time
    // limit by default: a few clients that send half a request would hold every thread of a
    // server's pool. Read once by the JDK, before the first server: set before any starts.
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", "5");
    }
  }

  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** The ConfigMap the mounted config directory holds (Events about the config go there). */
  static final ObjectRef CILIUM_CONFIG = new ObjectRef("ConfigMap", "kube-system", "cilium-config");
  private static final Duration LOOP_STALL = Duration.ofSeconds(120);
  /**
   * Cilium's conntrack GC starts at this interval too. A pass reads each table once (115 ms for a
   * full 524,288-entry table) and deletes the entries whose lifetime has ended, each read again
   * just before its delete.
   */
  static final Duration CT_GC_INTERVAL = Duration.ofSeconds(30);
  static final Duration GC_INTERVAL = Duration.ofMinutes(5);
  /** How often the node's interfaces are looked at again for bpf_host. */
  static final Duration DEVICE_REFRESH = Duration.ofSeconds(30);
  /** Allocations younger than this are never collected: their ADD may still be in flight. */
  static final Duration GC_GRACE = Duration.ofMinutes(2);

  private final AgentOptions options;
  private final Clock clock;
  private final AgentMetrics metrics = AgentMetrics.create();
  private final ConfigHolder config;
  private final AtomicBoolean reconcileRequested = new AtomicBoolean();
  private final Passes passes = new Passes();
  private LocalEndpoints localEndpoints = LocalEndpoints.NONE;
  private EndpointRegistry registry;
  private EndpointSync endpointSync;
  private final DeferredCniHandler cni = new DeferredCniHandler();
  private volatile EndpointManager endpointManager;
  private Instant lastGc;
  /** The config the agent started with: what restart-only keys are running with. */
  private volatile AgentConfig started;
  /** bpf_host's settings as loaded (SNAT ports, node address). */
  private volatile HostSettings loadedHost;
  /** The node-port-range the service compiler has (a live change may wait for a restart). */
  private volatile ServiceCompilerConfig.NodePortRange nodePortRangeInForce;
  /** The node's external interfaces: its address and MTU, and where bpf_host goes. */
  private final HostDevices nodeDevices;
  private Instant lastDeviceRefresh;
  /**
   * Whether this run has taken off the node programs earlier runs left on interfaces it does not
   * serve (once, at the first device refresh that knows the Node's addresses).
   */
  private boolean staleNodeProgramsRemoved;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Datapath datapath;
  /** What prometheus-serve-addr came to, for `anetd status`. */
  private volatile String metricsServer = "not set up yet";
  /** What bpf-lb-sock came to, for `anetd status`. */
  private volatile String socketLoadBalancing = "not set up yet";
  private ClusterStateSource source;
  private volatile EventRecorder events;
  private final Object configEventLock = new Object();
  /** A rejection seen before {@link #events} existed (at start), recorded once it does. */
  private ConfigRejection unrecordedRejection;
  private HealthCheckServer healthChecks;
  private Reconciler reconciler;
  private NetworkLoggingWatch loggingWatch;
  private PolicyLogging policyLogging;
  private Thread loop;
  private volatile boolean stopping;
  private volatile Instant heartbeat;
  private volatile Reconciler.Report lastReport;
  private volatile Instant lastReportTime;
  private volatile String lastError;
  private volatile ClusterState lastState;
  private volatile LoggedPass loggedPass;
  private volatile BuiltContext builtContext;
  private Set<Problem> previousProblems = Set.of();

  private Agent(AgentOptions options, Clock clock) {
    this.options = options;
    this.clock = clock;
    this.config = new ConfigHolder(AgentConfig.defaults(), clock);
    this.nodeDevices = new HostDevices(options.nodeNetns().orElse(null));
  }

  /** Starts every part of the agent; on failure, stops what was started and throws. */
  public static Agent start(AgentOptions options) {
    return start(options, null);
  }

  /**
   * Starts the agent against {@code client} (owned by the caller), or against the API server of
   * the options' kubeconfig (or in-cluster config) when {@code client} is null.
   */
  public static Agent start(AgentOptions options, KubernetesClient client) {
    Agent agent = new Agent(options, Clock.systemUTC());
    try {
      agent.loadConfig();
      agent.loadDatapath();
      agent.serveMetricsAndHealth();
      agent.watchCluster(client);
      agent.logPolicyActions();
      agent.serveCni();
      agent.startLoop();
      agent.applyChangeMadeDuringStart();
      return agent;
    } catch (RuntimeException e) {
      agent.close();
      throw e;
    }
  }

  /**
   * 1. cilium-config. Each accepted version is saved under the state directory; when the current
   * one is rejected or unreadable at start, the saved last accepted version is in force instead
   * (the defaults only when none was ever saved), loudly and in `anetd status`.
   */
  private void loadConfig() {
    config.addRejectionListener(this::configRejected);
    options.configDir().ifPresent(dir -> {
      ConfigDirectoryWatcher watcher = new ConfigDirectoryWatcher(new DirectoryConfigSource(dir),
          config, options.configPoll(), new LastAcceptedConfig(options.lastAcceptedConfigDir(),
              clock));
      closeables.add(watcher);
      watcher.loadAtStart();
      watcher.start();
    });
    config.addListener(this::configChanged);
    started = config.current();
    LogSetup.apply(config.current());
    warnOnEphemeralPortOverlap(config.current());
  }

  /**
   * Each rejected version, at start or later: counted, and a Warning Event on the ConfigMap says
   * why (once the cluster watch has a client: a rejection at start is recorded then).
   */
  private void configRejected(ConfigRejection rejection) {
    metrics.configRejected();
    EventRecorder recorder;
    synchronized (configEventLock) {
      recorder = events;
      if (recorder == null) {
        unrecordedRejection = rejection;
        return;
      }
    }
    recorder.record(configProblem(rejection));
  }

  static Problem configProblem(ConfigRejection rejection) {
    return new Problem(CILIUM_CONFIG, Reason.ConfigRejected,
        "rejected, the config in force is kept: " + ConfigHolder.describe(rejection.errors()));
  }

  /** 2. The datapath: maps sized from the config, pinned, adopted when a previous agent left them. */
  private void loadDatapath() {
    AgentConfig c = started; // restart-only keys: what the status reports as in force
    datapath = Datapath.load(new DatapathSettings(c.bpfRoot(), c.bpfLbMapMax(),
        c.bpfCtGlobalTcpMax(), c.bpfCtGlobalAnyMax(), c.bpfPolicyMapMax())
        .withPolicyAuditMode(c.policyAuditMode()), loadedHost = hostSettings(c));
    closeables.add(datapath);
    ServiceCompilerConfig services = serviceConfig(c, datapath.settings());
    reconciler = new Reconciler(datapath.loadBalancerWriter(), datapath.policyWriter(),
        datapath.conntrackTables(), services, IdentityAllocation.EMPTY, clock);
    nodePortRangeInForce = services.nodePortRange();
    reconciler.enforcement(enforcement(c));
    LOG.info("datapath loaded, maps pinned under {}", c.bpfRoot());
    Datapath loaded = datapath;
    metrics.datapathCounters(() -> loaded.counters().entrySet().stream()
        .map(e -> new AgentMetrics.DatapathCount(e.getKey().reasonName(),
            e.getKey().directionName(), e.getValue().packets(), e.getValue().bytes()))
        .toList());
    collectConntrackGarbage();
    attachNodeDevices(c);
    applySocketLoadBalancing(c);
  }

  /**
   * Every {@link #CT_GC_INTERVAL}, deletes the conntrack and SNAT entries whose lifetime has ended
   * (the tables are LRU maps: left full of dead entries, they would evict live idle connections).
   */
  private void collectConntrackGarbage() {
    ScheduledExecutorService gc = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "anetd-ct-gc");
      t.setDaemon(true);
      return t;
    });
    closeables.add(gc::shutdownNow);
    gc.scheduleWithFixedDelay(() -> {
      for (MapBackend table : datapath.conntrackTables()) {
        collectExpired(table, ConntrackPurger::purgeExpired);
      }
      // the SNAT entries of NodePort connections to remote backends: the same lifetimes
      collectExpired(datapath.snatTable(), ConntrackPurger::purgeExpiredSnat);
    }, CT_GC_INTERVAL.toSeconds(), CT_GC_INTERVAL.toSeconds(), TimeUnit.SECONDS);
  }

  /** One table's GC pass: {@code purge(table, now)} deletes what expired and says how many. */
  private void collectExpired(MapBackend table, java.util.function.ToIntBiFunction<MapBackend,
      Long> purge) {
    try {
      int deleted = purge.applyAsInt(table, System.nanoTime());
      metrics.conntrackGc(table.name(), deleted);
      LOG.debug("conntrack GC: {} expired entries deleted from {}", deleted, table.name());
    } catch (RuntimeException e) {
      LOG.warn("conntrack GC of {} failed (retried in {}): {}", table.name(), CT_GC_INTERVAL,
          e.toString());
    }
  }

  /**
   * bpf-lb-sock: links the socket programs to the node's cgroup v2 root, or detaches links an
   * earlier agent left. Failing leaves services to the per-packet path, which serves them all.
   */
  private void applySocketLoadBalancing(AgentConfig c) {
    SocketLoadBalancer sock = datapath.socketLoadBalancer();
    try {
      if (!c.socketLoadBalancing()) {
        if (sock.disable()) {
          LOG.info("socket load balancing is off (bpf-lb-sock {}): detached",
              c.bpfLbSock().isPresent() ? "false" : "unset, kube-proxy-replacement false");
        }
        socketLoadBalancing = "Disabled (per packet at the pod veth)";
        return;
      }
      Path root = SocketLoadBalancer.cgroupRoot(c.cgroupRoot());
      // the node's own sockets pass no pod veth: the socket programs serve them every ClusterIP
      long hostNetns = NetworkNamespace.callIn(options.nodeNetns().orElse(null),
          NetworkNamespace::cookie);
      sock.enable(root, hostNetns);
      LOG.info("socket load balancing on cgroup {}: TCP connects to services go straight to a"
          + " backend; host-network UDP and session affinity too", root);
      socketLoadBalancing = "Enabled on cgroup " + root
          + " (pods: TCP, UDP per packet; host network: TCP and UDP)";
    } catch (RuntimeException e) {
      LOG.error("bpf-lb-sock: socket load balancing is unavailable, services are translated per"
          + " packet: {}", e.toString());
      socketLoadBalancing = "UNAVAILABLE, per packet only: " + e.getMessage();
      metrics.problem("SocketLbUnavailable");
    }
  }

  /**
   * bpf_host's tunables: SNAT ports outside node-port-range, and the node's own address as the
   * source of LoadBalancer and external IP connections it forwards to backends on other nodes
   * (the frontend itself is no source to use there: on GCE, for one, every node holds a
   * LoadBalancer IP as a local address and drops packets coming from it). NodePort connections
   * keep the node address the client sent them to.
   */
  private HostSettings hostSettings(AgentConfig c) {
    HostSettings s =
        HostSettings.forNodePortRange(c.nodePortRange().first(), c.nodePortRange().last());
    if (!c.kubeProxyReplacement()) {
      return s;
    }
    warnOnSnatPortOverlap(s); // bpf_host SNATs only when attached
    Optional<Ipv4> own = Optional.empty();
    try {
      own = nodeDevices.detectPrimaryAddress();
    } catch (RuntimeException e) {
      LOG.warn("cannot read the node's addresses: {}", e.toString());
    }
    if (own.isEmpty()) {
      LOG.warn("no default route with an IPv4 address: LoadBalancer and external IP connections"
          + " to backends on other nodes are SNATed to the frontend address");
      return s;
    }
    LOG.info("LoadBalancer and external IP connections to other nodes are SNATed to {}",
        own.get());
    return s.withSnatIpv4(own.get());
  }

  /**
   * With kube-proxy-replacement, NodePort, LoadBalancer and external IPs are served on the node's
   * external interfaces (those with a global IPv4 address and a default route). The programs stay
   * attached when the agent stops, like the pod programs: NodePorts keep working across restarts,
   * and the next agent replaces them in place. Those an earlier agent left on interfaces this one
   * no longer selects are taken off once the Node is known ({@link #refreshNodeDevices}). Without
   * kube-proxy-replacement, the programs an earlier agent left are taken off at once, or they
   * would translate NodePorts beside kube-proxy.
   */
  private void attachNodeDevices(AgentConfig c) {
    if (!c.kubeProxyReplacement()) {
      LOG.info("kube-proxy-replacement is false: NodePort and external IPs are left to kube-proxy");
      removeLeftNodePrograms(Set.of());
      return;
    }
    try {
      List<String> devices = nodeDevices.attach(List.of(), datapath.nodePrograms());
      LOG.info("NodePort and external IPs served on {}", devices);
    } catch (RuntimeException e) {
      LOG.error("cannot attach the node programs (NodePorts will not answer): {}", e.toString());
    }
  }

  /**
   * Takes bpf_host's filters an earlier agent (with kube-proxy-replacement) left off the node's
   * interfaces but those in {@code keep}: all of them without kube-proxy-replacement, those this
   * agent does not serve with it ({@code keep} is what it serves). A failure is logged and
   * counted, and the agent goes on: its own work does not need it. Returns false when the
   * interfaces could not even be listed.
   */
  private boolean removeLeftNodePrograms(Set<String> keep) {
    boolean served = started.kubeProxyReplacement();
    try {
      HostDevices.Removal removal = nodeDevices.removeLeftPrograms(keep);
      if (!removal.removed().isEmpty()) {
        if (!served) {
          LOG.info("removed the node programs (from_netdev, to_netdev) an earlier agent left on {}",
              removal.removed());
        } else {
          LOG.info("removed the node programs (from_netdev, to_netdev) an earlier agent left on {}"
              + " (no longer selected; NodePort and external IPs are served on {})",
              removal.removed(), keep);
        }
      }
      removal.failed().forEach((device, reason) -> LOG.warn("cannot remove the node programs an"
          + " earlier agent left on {} (anetd may still translate NodePorts there): {}", device,
          reason));
      if (!removal.failed().isEmpty()) {
        metrics.problem("NodeProgramsLeft");
      }
      return true;
    } catch (RuntimeException e) {
      if (!served) {
        LOG.error("cannot look for node programs an earlier agent left (anetd may still translate"
            + " NodePorts beside kube-proxy): {}", e.toString());
      } else {
        LOG.warn("cannot look for node programs an earlier agent left on interfaces no longer"
            + " selected (retried at the next device refresh): {}", e.toString());
      }
      metrics.problem("NodeProgramsLeft");
      return false;
    }
  }

  /**
   * Every DEVICE_REFRESH, and once the Node is known: the programs also go on interfaces that
   * hold one of the Node's addresses (InternalIP, ExternalIP: where NodePorts listen) without a
   * default route, and on interfaces that got a default route or were created again since.
   *
   * <p>At the first of these passes that knows the Node's addresses and attached without
   * failing, the selection is complete: the programs an earlier agent left on every other
   * interface (its default route moved, it no longer holds a Node address) are taken off, once
   * per run. Not earlier: an interface holding a Node address without a default route is not
   * attached before the Node is known, and its NodePorts would stop answering meanwhile. While
   * the Node stays unknown, nothing is taken off.
   */
  private void refreshNodeDevices(ClusterState state) {
    Instant now = clock.instant();
    if (!started.kubeProxyReplacement() || lastDeviceRefresh != null
        && Duration.between(lastDeviceRefresh, now).compareTo(DEVICE_REFRESH) < 0) {
      return;
    }
    lastDeviceRefresh = now;
    Set<Ipv4> nodeAddresses;
    try {
      nodeAddresses = Set.copyOf(ServiceCompiler.nodeAddresses(state));
      List<String> added = nodeDevices.attachNew(nodeAddresses, datapath.nodePrograms());
      if (!added.isEmpty()) {
        LOG.info("NodePort and external IPs now also served on {}", added);
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot look for new node interfaces: {}", e.toString());
      return; // the selection may be incomplete: nothing is taken off before a pass succeeds
    }
    if (!staleNodeProgramsRemoved && !nodeAddresses.isEmpty()) {
      staleNodeProgramsRemoved = removeLeftNodePrograms(Set.copyOf(nodeDevices.attached()));
    }
  }

  /** 3. Metrics (:9962), health and status (:9879), healthCheckNodePorts. */
  private void serveMetricsAndHealth() {
    AgentConfig c = started;
    // Metrics are optional: an address that cannot be bound is reported, not fatal. The health
    // server is: the probes need it.
    metricsServer = c.prometheusServeAddr().map(a -> MetricsServer.startOrReport(metrics, socket(a))
        .map(server -> {
          closeables.add(server);
          return "serving on " + a;
        })
        .orElse("UNAVAILABLE: cannot serve on " + a + " (see the log)"))
        .orElse("off (prometheus-serve-addr is empty)");
    closeables.add(HealthServer.start(socket(c.healthServeAddr()), this::health, Map.of(
        "/statusz", this::summary,
        "/endpointz", () -> lastReport().map(r -> EndpointTable.endpoints(r.desiredPolicy(),
            r.ipcache(), datapath.lxcWriter().entries())).orElse("no reconcile pass yet\n"),
        "/policyz", () -> lastReport().map(r -> EndpointTable.policy(r.desiredPolicy()))
            .orElse("no reconcile pass yet\n"))));
    // healthCheckNodePorts answer on every node address, as kube-proxy's do.
    healthChecks = new HealthCheckServer(anyAddress());
    closeables.add(healthChecks);
  }

  /** 4. Informers on every kind the compilers read. */
  private void watchCluster(KubernetesClient given) {
    KubernetesClient client = given != null ? given : ownClient();
    ConfigRejection atStart;
    synchronized (configEventLock) {
      events = new EventRecorder(client, options.nodeName());
      atStart = unrecordedRejection;
      unrecordedRejection = null;
    }
    closeables.add(events);
    if (atStart != null) {
      events.record(configProblem(atStart));
    }
    closeables.add(loggingWatch = new NetworkLoggingWatch(client));
    source = new ClusterStateSource(client, options.nodeName()).start();
    closeables.add(source);
  }

  /** 5. The policy action log, fed by the datapath's verdict events. */
  private void logPolicyActions() {
    closeables.add(policyLogging = new PolicyLogging(datapath, started.policyActionLog(),
        metrics, this::loggingContext, clock).start());
  }

  /**
   * What the logger reads for each event: the snapshot the last written pass was compiled from
   * (with the addresses CNI gave pods whose status has none yet), its policy sets and the
   * settings in force. Built again only when one of them changed, not per event.
   */
  private LoggingContext loggingContext() {
    LoggedPass pass = loggedPass;
    LoggingSettings settings = loggingWatch.settings();
    BuiltContext last = builtContext;
    if (last != null && last.pass() == pass && last.context().settings() == settings) {
      return last.context();
    }
    LoggingContext next = new LoggingContext(
        pass == null ? ClusterState.empty(options.nodeName()) : pass.state(),
        pass == null ? Map.of() : pass.policySets(), settings);
    builtContext = new BuiltContext(pass, next);
    return next;
  }

  /**
   * The snapshot a pass that wrote policy compiled (merged with the endpoints' addresses), and
   * the policy sets it wrote.
   */
  private record LoggedPass(ClusterState state, Map<Long, List<ObjectRef>> policySets) {}

  /** The logging context last built, and the pass it was built from. */
  private record BuiltContext(LoggedPass pass, LoggingContext context) {}

  private KubernetesClient ownClient() {
    Config k8s = options.kubeconfig()
        .map(path -> {
          try {
            return Config.fromKubeconfig(Files.readString(path));
          } catch (IOException e) {
            throw new IllegalArgumentException("cannot read kubeconfig " + path + ": " + e.getMessage(), e);
          }
        })
        .orElseGet(() -> Config.autoConfigure(null));
    KubernetesClient client = new KubernetesClientBuilder().withConfig(k8s).build();
    closeables.add(client);
    return client;
  }

  /**
   * 6. The CNI socket. Endpoints attach the programs loaded in step 2 and are published through
   * the reconcile loop; until the pod CIDR is known, requests are answered "try again".
   */
  private void serveCni() {
    registry = new EndpointRegistry(options.endpointsDir());
    endpointSync = new EndpointSync(registry, new EndpointSync.Loop() {
      @Override
      public void requestReconcile() {
        Agent.this.requestReconcile();
      }

      @Override
      public Passes passes() {
        return passes;
      }

      @Override
      public Optional<Ipcache4Value> ipcache(Ipv4 address) {
        return datapath.map(Datapath.IPCACHE4)
            .lookup(Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(address)))
            .map(Ipcache4ValueCodec.INSTANCE::decode);
      }
    }, EndpointSync.PUBLISH_TIMEOUT);
    localEndpoints = endpointSync;
    cni.notReady("no pod CIDR yet: waiting for Node " + options.nodeName()
        + "'s spec.podCIDR (or --pod-cidr)");
    closeables.add(passes::close);
    closeables.add(CniServer.start(options.cniSocket(), cni));
    options.podCidr().ifPresent(c -> startEndpoints(PodCidr.parse(c), "--pod-cidr"));
  }

  /** The pod CIDR is known: IPAM, the endpoint manager, re-attach survivors, serve ADD. */
  private synchronized void startEndpoints(PodCidr cidr, String from) {
    if (endpointManager != null) {
      if (!endpointManager.podCidr().equals(cidr)) {
        LOG.warn("pod CIDR changed to {} ({}); this agent keeps {} until it restarts", cidr, from,
            endpointManager.podCidr());
      }
      return;
    }
    Path nodeNetns = options.nodeNetns().orElse(null);
    EndpointManager manager = new EndpointManager(nodeNetns,
        new IpamStore(options.ipamDir(), cidr, clock), registry,
        new BpfEndpointDatapath(datapath.fromContainer(), datapath.toContainer(), nodeNetns,
            endpointSync, datapath.lxcWriter(), datapath.conntrackTables()), new IpRouteLinkOps(),
        clock, podMtu(started)); // restart-only, as the status says
    int restored = manager.restore();
    endpointManager = manager;
    cni.ready(manager);
    LOG.info("pod CIDR {} ({}); serving CNI on {}, {} endpoints re-attached", cidr, from,
        options.cniSocket(), restored);
  }

  /** cilium-config mtu, or with 0 the MTU of the node's default-route interface (else 1500). */
  private int podMtu(AgentConfig c) {
    if (c.mtu() != 0) {
      return c.mtu();
    }
    try {
      OptionalInt found = nodeDevices.detectPrimaryMtu();
      if (found.isPresent()) {
        LOG.info("pod interfaces get MTU {}, the default-route interface's", found.getAsInt());
        return found.getAsInt();
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot read the node's interfaces: {}", e.toString());
    }
    LOG.warn("no default route: pod interfaces get MTU 1500 (set cilium-config mtu)");
    return 1500;
  }

  /** Pod CIDR from this Node's spec, once the first snapshot has it. */
  private void podCidrFromNode(ClusterState state) {
    if (endpointManager != null || options.podCidr().isPresent()) {
      return;
    }
    state.nodes().stream().filter(n -> n.getMetadata().getName().equals(options.nodeName()))
        .findFirst().map(n -> n.getSpec() == null ? null : n.getSpec().getPodCIDR())
        .filter(c -> !c.isBlank()).ifPresent(c -> {
          try {
            startEndpoints(PodCidr.parse(c), "Node " + options.nodeName() + " spec.podCIDR");
          } catch (IllegalArgumentException e) {
            LOG.error("Node {} has an unusable spec.podCIDR {}: {}", options.nodeName(), c,
                e.getMessage());
          } catch (RuntimeException e) {
            // a corrupted state file, a failed `ip`: pods keep what they have, CNI ADD is asked
            // to try again with the reason, and the next pass tries again
            LOG.error("cannot start the pod endpoints: {}", e.getMessage());
            cni.notReady("cannot start the pod endpoints: " + e.getMessage());
          }
        });
  }

  /** IPAM garbage collection against the API's pods of this node, after the first snapshot. */
  private void collectGarbage(ClusterState state) {
    EndpointManager manager = endpointManager;
    Instant now = clock.instant();
    if (manager == null || lastGc != null && Duration.between(lastGc, now).compareTo(GC_INTERVAL) < 0) {
      return;
    }
    lastGc = now;
    try {
      List<LivePod> live = state.localPods().stream()
          .map(p -> LivePod.ofApi(p.getMetadata().getNamespace(), p.getMetadata().getName()))
          .toList();
      int freed = manager.collectGarbage(live, GC_GRACE).size();
      if (freed > 0) {
        requestReconcile();
      }
    } catch (RuntimeException e) {
      LOG.error("IPAM garbage collection failed: {}", e.toString());
    }
  }

  /** 7. The reconcile loop, on its own thread. */
  private void startLoop() {
    loop = new Thread(this::runLoop, "anetd-reconcile");
    loop.start();
  }

  /** Asks for a pass even without a new snapshot (an endpoint was added, config changed). */
  public void requestReconcile() {
    reconcileRequested.set(true);
    if (source != null) {
      source.wakeConsumers();
    }
  }

  private void runLoop() {
    long version = 0;
    Duration backoff = Duration.ofMillis(200);
    while (!stopping) {
      heartbeat = clock.instant();
      try {
        Optional<ClusterState> next = source.awaitNext(version, Duration.ofSeconds(1));
        if (next.isEmpty() && lastState == null) {
          continue; // a request before the first snapshot waits for it
        }
        boolean requested = reconcileRequested.getAndSet(false);
        ClusterState state = next.orElse(requested || lastError != null ? lastState : null);
        if (state == null) {
          refreshNodeDevices(lastState); // every DEVICE_REFRESH, also in a quiet cluster
          continue;
        }
        version = state.version();
        lastState = state;
        podCidrFromNode(state);
        boolean firstPass = lastReport == null;
        boolean ok = reconcileOnce(state);
        collectGarbage(state);
        refreshNodeDevices(state);
        if (ok && firstPass) {
          // The first pass compiles and writes everything at once and leaves several times the
          // steady state as garbage; one full collection now lets the heap shrink to what the
          // agent holds (bin/anetd runs it with -XX:-ShrinkHeapInSteps) instead of keeping the
          // peak committed for the life of the node.
          System.gc();
        }
        if (ok) {
          backoff = Duration.ofMillis(200);
        } else {
          Thread.sleep(backoff.toMillis()); // the datapath keeps its last state meanwhile
          backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
              : backoff.multipliedBy(2);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // whatever a step let through must not end the only thread that writes the maps: the
        // datapath keeps its state, and the loop goes on after a pause
        LOG.error("reconcile loop: unexpected error, retrying in {} ms", backoff.toMillis(), e);
        lastError = String.valueOf(e.getMessage()); // the same snapshot is tried again
        try {
          Thread.sleep(backoff.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
            : backoff.multipliedBy(2);
      }
    }
  }

  private boolean reconcileOnce(ClusterState snapshot) {
    MDC.put("stateVersion", Long.toString(snapshot.version()));
    Instant start = clock.instant();
    long pass = passes.begin(); // before reading the endpoints: see EndpointSync
    ClusterState state = snapshot;
    try {
      LocalEndpoints.View endpoints = localEndpoints.view();
      state = SnapshotMerge.withEndpointAddresses(snapshot, endpoints.addresses());
      Reconciler.Report report = reconciler.reconcile(state, endpoints.ids());
      reportProblems(report.problems());
      healthChecks.update(report.healthChecks()).forEach(this::reportProblem);
      lastReport = report;
      loggedPass = new LoggedPass(state, report.desiredPolicy().policySets());
      lastReportTime = clock.instant();
      lastError = null;
      passes.succeeded(pass);
      metrics.reconciled(Duration.between(start, clock.instant()).toNanos() / 1e9, true);
      recordMapFill(report);
      if (report.passDue()) {
        requestReconcile(); // room was freed: what waited for it may fit now
      }
      if (report.services().changes() + report.policy().changes() > 0) {
        LOG.info("state v{}: services {}, policy {}, conntrack purged {} ({} compile, {} write)",
            state.version(), report.services(), report.policy(), report.conntrackPurged(),
            report.compileTime(), report.writeTime());
      }
      return true;
    } catch (Reconciler.ServicesFailed e) {
      // policy and ipcache were written: endpoints waiting for this pass may go on, and the
      // policy log names what verdicts of the written policy refer to
      loggedPass = new LoggedPass(state, e.policy().policySets());
      lastError = e.getMessage();
      passes.succeeded(pass);
      metrics.reconciled(Duration.between(start, clock.instant()).toNanos() / 1e9, false);
      LOG.error("state v{}: {}; retrying, the service maps keep their last state",
          state.version(), e.getMessage(), e.getCause());
      return false;
    } catch (RuntimeException e) {
      lastError = e.getMessage();
      passes.failed(e.toString());
      metrics.reconciled(Duration.between(start, clock.instant()).toNanos() / 1e9, false);
      LOG.error("state v{}: reconcile failed, keeping the datapath's last state: {}",
          state.version(), e.toString(), e);
      return false;
    } finally {
      MDC.remove("stateVersion");
    }
  }

  /** Each problem once: Events and the metric count problems newly seen, not every pass. */
  private void reportProblems(List<Problem> problems) {
    Set<Problem> now = new HashSet<>(problems);
    for (Problem p : now) {
      if (!previousProblems.contains(p)) {
        reportProblem(p);
      }
    }
    previousProblems = now;
  }

  private void reportProblem(Problem p) {
    LOG.warn("{}", p);
    metrics.problem(p.reason().name());
    events.record(p);
  }

  private void recordMapFill(Reconciler.Report r) {
    DatapathSettings s = datapath.settings();
    metrics.mapState(Datapath.LB4_SERVICES, r.serviceTotals().serviceEntries(), s.lbMapMax());
    metrics.mapState(Datapath.LB4_BACKENDS, r.serviceTotals().backends(), s.lbMapMax());
    metrics.mapState(Datapath.POLICY, r.desiredPolicy().entries().size(),
        datapath.map(Datapath.POLICY).maxEntries());
  }

  /** A config accepted while the agent started (its listener skipped it): applied now. */
  private void applyChangeMadeDuringStart() {
    AgentConfig now = config.current();
    if (now != started) {
      configChanged(now);
    }
  }

  private void configChanged(AgentConfig c) {
    if (reconciler == null) {
      return; // still starting: start() applies the change once the datapath is loaded
    }
    List<String> pending = pendingRestart(started, c);
    LOG.info("cilium-config changed; node-port-range, enable-policy, bpf-lb-sock and debug apply"
        + " now{}", pending.isEmpty() ? "" : "; at the next agent restart: " + pending);
    applySocketLoadBalancing(c);
    ServiceCompilerConfig services =
        serviceConfig(c, datapath.settings(), loadedHost, nodePortRangeInForce);
    nodePortRangeInForce = services.nodePortRange();
    reconciler.serviceConfig(services);
    reconciler.enforcement(enforcement(c));
    LogSetup.apply(c);
    warnOnEphemeralPortOverlap(c);
    requestReconcile();
  }

  private static PolicyCompiler.Enforcement enforcement(AgentConfig c) {
    return switch (c.enablePolicy()) {
      case DEFAULT -> PolicyCompiler.Enforcement.DEFAULT;
      case ALWAYS -> PolicyCompiler.Enforcement.ALWAYS;
      case NEVER -> PolicyCompiler.Enforcement.NEVER;
    };
  }

  /**
   * The service compiler's settings: node-port-range from {@code c}, the map limit from the maps
   * as loaded ({@code loaded}): a bpf-lb-map-max changed at run time resizes them only at the next
   * restart, and admitting more than they hold would fail every write until then.
   */
  static ServiceCompilerConfig serviceConfig(AgentConfig c, DatapathSettings loaded) {
    return ServiceCompilerConfig.defaults().withLbMapMax(loaded.lbMapMax())
        .withNodePortRange(new ServiceCompilerConfig.NodePortRange(c.nodePortRange().first(),
            c.nodePortRange().last()));
  }

  /**
   * As above, for a node-port-range changed while bpf_host runs with the SNAT ports it was loaded
   * with ({@code host}): a range reaching into them would let a SNAT port shadow a NodePort, so
   * the range in force stays until the restart that moves the SNAT ports out of its way.
   */
  static ServiceCompilerConfig serviceConfig(AgentConfig c, DatapathSettings loaded,
      HostSettings host, ServiceCompilerConfig.NodePortRange inForce) {
    ServiceCompilerConfig next = serviceConfig(c, loaded);
    if (host == null || inForce == null || c.nodePortRange().last() < host.snatPortMin()
        || c.nodePortRange().first() > host.snatPortMax()) {
      return next;
    }
    LOG.warn("node-port-range {} reaches into the SNAT ports {}-{} bpf_host runs with: it applies"
        + " at the next agent restart, {}-{} stays in force", c.nodePortRange(),
        host.snatPortMin(), host.snatPortMax(), inForce.first(), inForce.last());
    return next.withNodePortRange(inForce);
  }

  /** Keys read only when the agent starts: a change waits for the next restart. */
  static final List<ConfigKey> RESTART_ONLY = List.of(ConfigKey.KUBE_PROXY_REPLACEMENT,
      ConfigKey.BPF_LB_MAP_MAX, ConfigKey.BPF_CT_GLOBAL_TCP_MAX, ConfigKey.BPF_CT_GLOBAL_ANY_MAX,
      ConfigKey.BPF_POLICY_MAP_MAX, ConfigKey.POLICY_AUDIT_MODE, ConfigKey.POLICY_ACTION_LOG,
      ConfigKey.PROMETHEUS_SERVE_ADDR, ConfigKey.HEALTH_SERVE_ADDR, ConfigKey.BPF_ROOT,
      ConfigKey.MTU);

  /** "key value (in force: value)" for each restart-only key {@code now} changes. */
  static List<String> pendingRestart(AgentConfig started, AgentConfig now) {
    List<String> pending = new ArrayList<>();
    if (started == null) {
      return pending;
    }
    for (ConfigKey key : RESTART_ONLY) {
      String was = started.formattedValue(key);
      String is = now.formattedValue(key);
      if (!was.equals(is)) {
        pending.add(key.configName() + " " + is + " (in force: " + was + ")");
      }
    }
    return pending;
  }

  private static void warnOnEphemeralPortOverlap(AgentConfig c) {
    try {
      EphemeralPortRangeReader.system().nodePortWarning(c.nodePortRange()).ifPresent(LOG::warn);
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot check the ephemeral port range: {}", e.toString());
    }
  }

  private static void warnOnSnatPortOverlap(HostSettings host) {
    try {
      EphemeralPortRangeReader.system().snatPortWarning(new PortRange(host.snatPortMin(),
          host.snatPortMax())).ifPresent(LOG::warn);
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot check the ephemeral port range: {}", e.toString());
    }
  }

  /**
   * Liveness: the loop thread runs and is not stuck. Readiness: synced, loaded, reconciled, and
   * the CNI server takes ADDs.
   */
  public HealthServer.Status health() {
    List<String> notLive = new ArrayList<>();
    if (loop == null || !loop.isAlive()) {
      notLive.add("reconcile loop is not running");
    } else if (heartbeat != null && Duration.between(heartbeat, clock.instant()).compareTo(LOOP_STALL) > 0) {
      notLive.add("reconcile loop stalled since " + heartbeat);
    }
    List<String> notReady = new ArrayList<>(notLive);
    if (source != null && !source.health().ready()) {
      notReady.add("cluster watch: " + source.health().message());
    }
    if (lastReport == null) {
      notReady.add("no reconcile pass completed yet");
    } else {
      // After the first pass the pod CIDR is known if the Node has one: a CNI server that still
      // refuses every ADD (no pod CIDR, endpoints that could not be restored) is a node that
      // cannot start pods.
      cni.notReadyReason().ifPresent(reason -> notReady.add("CNI: " + reason));
    }
    if (lastError != null) {
      notReady.add("last reconcile failed: " + lastError);
    }
    return new HealthServer.Status(notLive, notReady);
  }

  /** What `anetd status` prints. */
  public String summary() {
    AgentConfig current = config.current();
    List<String> pending = new ArrayList<>(pendingRestart(started, current));
    ServiceCompilerConfig.NodePortRange inForce = nodePortRangeInForce;
    String range = current.formattedValue(ConfigKey.NODE_PORT_RANGE);
    if (inForce != null) {
      String inForceText = inForce.first() + "-" + inForce.last();
      if (!inForceText.equals(range)) {
        pending.add("node-port-range " + range + " (in force: " + inForceText + ")");
      }
      range = inForceText;
    }
    return AgentStatus.render(options, config, started, range, pending, health(), lastReport,
        lastReportTime, datapath, socketLoadBalancing, metricsServer,
        policyLogging == null ? null : policyLogging.counters(),
        source == null ? Optional.empty() : source.latest());
  }

  public AgentMetrics metrics() {
    return metrics;
  }

  public Optional<Reconciler.Report> lastReport() {
    return Optional.ofNullable(lastReport);
  }

  public Datapath datapath() {
    return datapath;
  }

  /** The pod endpoints of this node, once the pod CIDR is known. */
  public Optional<EndpointManager> endpoints() {
    return Optional.ofNullable(endpointManager);
  }

  /** Blocks until the agent stops. */
  public void awaitTermination() throws InterruptedException {
    if (loop != null) {
      loop.join();
    }
  }

  @Override
  public void close() {
    stopping = true;
    passes.close(); // ADDs waiting for a pass give up now
    if (loop != null) {
      loop.interrupt();
      try {
        loop.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // Reverse order of start; the pinned maps stay for the next agent.
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        LOG.warn("stopping {}: {}", closeables.get(i).getClass().getSimpleName(), e.toString());
      }
    }
    closeables.clear();
  }

  private static InetSocketAddress socket(ListenAddress a) {
    return a.host().isEmpty() ? new InetSocketAddress(a.port()) : new InetSocketAddress(a.host(), a.port());
  }

  private static InetAddress anyAddress() {
    return new InetSocketAddress(0).getAddress();
  }
}
