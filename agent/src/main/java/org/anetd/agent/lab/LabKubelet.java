package org.anetd.agent.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lab's kubelet for every lab node: a pod scheduled to one becomes a network namespace wired
 * by the real CNI path (the plugin binary, the node agent's socket), with {@link EchoServer}
 * serving its containerPorts inside, and is reported Running and Ready with its IP. Pods carry
 * the finalizer {@value #FINALIZER} while they run, so a deletion shows as terminating (the
 * EndpointSlice says so) until the kubelet has stopped the server, run CNI DEL and removed the
 * namespace, as a real kubelet's graceful termination does.
 */
final class LabKubelet {
  static final String FINALIZER = "lab.anetd.io/kubelet";
  private static final Logger LOG = LoggerFactory.getLogger(LabKubelet.class);
  private static final long RETRY_MILLIS = 2000;

  private final KubernetesClient client;
  private final Path stateDir;
  private final Map<String, LabState.Node> nodes;
  private final Path cniBinary;
  private final Map<String, LabState.Pod> running = new HashMap<>();
  private final Map<String, Process> servers = new HashMap<>();
  private final Map<String, Long> failedAt = new HashMap<>();

  LabKubelet(KubernetesClient client, Path stateDir, List<LabState.Node> nodes, Path cniBinary) {
    this.client = client;
    this.stateDir = stateDir;
    this.nodes = new HashMap<>();
    nodes.forEach(n -> this.nodes.put(n.name(), n));
    this.cniBinary = cniBinary;
  }

  /** One pass over the pods of the API server: start, finish and forget pods as needed. */
  void sync(List<Pod> pods) {
    Set<String> seen = new HashSet<>();
    for (Pod p : pods) {
      String node = p.getSpec() == null ? null : p.getSpec().getNodeName();
      if (node == null || !nodes.containsKey(node)) {
        continue;
      }
      String key = key(p);
      seen.add(key);
      LabState.Pod r = running.get(key);
      if (r != null && !r.uid().equals(p.getMetadata().getUid())) {
        stop(key); // a new pod of the same name
        r = null;
      }
      if (p.getMetadata().getDeletionTimestamp() != null) {
        if (r != null) {
          stop(key);
        }
        removeFinalizer(p);
      } else if (r == null && !SliceDesign.finished(p) && retryDue(key)) {
        try {
          start(p, nodes.get(node));
          failedAt.remove(key);
        } catch (RuntimeException e) {
          failedAt.put(key, System.currentTimeMillis());
          LOG.warn("lab kubelet: cannot start pod {}: {}", key, e.getMessage());
        }
      }
    }
    for (String key : new ArrayList<>(running.keySet())) {
      if (!seen.contains(key)) {
        stop(key); // deleted without our finalizer (forced)
      }
    }
  }

  /** Stops every pod (lab down): servers, CNI DEL, namespaces. */
  void stopAll() {
    new ArrayList<>(running.keySet()).forEach(this::stop);
  }

  private boolean retryDue(String key) {
    Long at = failedAt.get(key);
    return at == null || System.currentTimeMillis() - at > RETRY_MILLIS;
  }

  private void start(Pod p, LabState.Node node) {
    String ns = p.getMetadata().getNamespace();
    String name = p.getMetadata().getName();
    if (p.getMetadata().getFinalizers() == null
        || !p.getMetadata().getFinalizers().contains(FINALIZER)) {
      p = client.pods().inNamespace(ns).withName(name).edit(cur -> new PodBuilder(cur)
          .editMetadata().addToFinalizers(FINALIZER).endMetadata().build());
    }
    String netns = LabState.podNetns(ns, name);
    String containerId = "lab-" + p.getMetadata().getUid();
    Cmd.exec("ip", "netns", "del", netns); // left by a crashed lab
    Cmd.run("ip", "netns", "add", netns);
    String ip;
    Process server = null;
    try {
      Cmd.run("ip", "-n", netns, "link", "set", "lo", "up");
      ip = cniAdd(node, ns, name, p.getMetadata().getUid(), netns, containerId);
      List<String> ports = ports(p);
      if (!ports.isEmpty()) {
        server = startServer(netns, name, ports, ns);
      }
    } catch (RuntimeException e) {
      cni("DEL", node, ns, name, p.getMetadata().getUid(), netns, containerId);
      Cmd.exec("ip", "netns", "del", netns);
      throw e;
    }
    LabState.Pod record = new LabState.Pod(ns, name, p.getMetadata().getUid(), node.name(), netns,
        containerId, ip, server == null ? 0 : server.pid());
    running.put(key(p), record);
    if (server != null) {
      servers.put(key(p), server);
    }
    LabState.write(LabState.podFile(stateDir, ns, name), record);
    String now = Instant.now().toString();
    client.pods().inNamespace(ns).withName(name).editStatus(cur -> new PodBuilder(cur)
        .editOrNewStatus().withPhase("Running").withPodIP(ip).withPodIPs(new PodIP(ip))
        .withHostIP(node.ip()).withStartTime(now)
        .withConditions(condition("PodScheduled", now), condition("Initialized", now),
            condition("ContainersReady", now), condition("Ready", now))
        .endStatus().build());
    LOG.info("lab kubelet: pod {}/{} running on {} at {}", ns, name, node.name(), ip);
  }

  private static io.fabric8.kubernetes.api.model.PodCondition condition(String type, String now) {
    return new PodConditionBuilder().withType(type).withStatus("True").withLastTransitionTime(now)
        .build();
  }

  private void stop(String key) {
    LabState.Pod r = running.remove(key);
    if (r == null) {
      return;
    }
    Process server = servers.remove(key);
    if (server != null) {
      server.destroy();
      try {
        if (!server.waitFor(3, TimeUnit.SECONDS)) {
          server.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.destroyForcibly();
      }
    }
    LabState.Node node = nodes.get(r.node());
    cni("DEL", node, r.namespace(), r.name(), r.uid(), r.netns(), r.containerId());
    Cmd.exec("ip", "netns", "del", r.netns());
    try {
      Files.deleteIfExists(LabState.podFile(stateDir, r.namespace(), r.name()));
    } catch (IOException e) {
      LOG.warn("cannot remove the record of pod {}: {}", key, e.getMessage());
    }
    LOG.info("lab kubelet: pod {} stopped", key);
  }

  private void removeFinalizer(Pod p) {
    if (p.getMetadata().getFinalizers() == null
        || !p.getMetadata().getFinalizers().contains(FINALIZER)) {
      return;
    }
    try {
      client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
          .edit(cur -> new PodBuilder(cur).editMetadata().removeFromFinalizers(FINALIZER)
              .endMetadata().build());
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** containerPorts as EchoServer arguments: PORT/tcp, PORT/udp. */
  static List<String> ports(Pod p) {
    Set<String> out = new LinkedHashSet<>();
    if (p.getSpec() != null && p.getSpec().getContainers() != null) {
      p.getSpec().getContainers().forEach(c -> {
        for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
          String proto = cp.getProtocol() == null ? "TCP" : cp.getProtocol();
          if (cp.getContainerPort() != null && !proto.equals("SCTP")) {
            out.add(cp.getContainerPort() + "/" + proto.toLowerCase());
          }
        }
      });
    }
    return List.copyOf(out);
  }

  private Process startServer(String netns, String name, List<String> ports, String ns) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx24m", "-Xss256k",
        "-cp", EchoServerLauncher.classpath(), EchoServer.class.getName(), name));
    cmd.addAll(ports);
    try {
      Path log = LabState.podsDir(stateDir).resolve(ns + "." + name + ".log");
      Files.createDirectories(log.getParent());
      Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
      p.getOutputStream().close();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8));
      String line = CompletableFuture.supplyAsync(() -> {
        try {
          return out.readLine();
        } catch (IOException e) {
          return null;
        }
      }).get(30, TimeUnit.SECONDS);
      if (!"ready".equals(line)) {
        p.destroyForcibly();
        throw new IllegalStateException("the echo server of " + name + " did not start: "
            + Files.readString(log).strip());
      }
      return p;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the echo server of " + name + ": "
          + e.getMessage(), e);
    } catch (Exception e) {
      throw new IllegalStateException("the echo server of " + name + " did not start: " + e, e);
    }
  }

  private String cniAdd(LabState.Node node, String ns, String name, String uid, String netns,
      String containerId) {
    Cmd.Result r = cni("ADD", node, ns, name, uid, netns, containerId);
    try {
      JsonNode result = LabState.JSON.readTree(r.output());
      if (r.exitCode() != 0) {
        throw new IllegalStateException("CNI ADD failed: " + result.path("msg").asText() + " ("
            + result.path("details").asText() + ")");
      }
      return result.at("/ips/0/address").asText().replaceFirst("/.*", "");
    } catch (IOException e) {
      throw new IllegalStateException("CNI ADD printed no JSON: " + r.output(), e);
    }
  }

  private Cmd.Result cni(String command, LabState.Node node, String ns, String name, String uid,
      String netns, String containerId) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cniBinary.toString());
      Map<String, String> env = pb.environment();
      env.clear();
      env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
      env.put("CNI_COMMAND", command);
      env.put("CNI_CONTAINERID", containerId);
      env.put("CNI_NETNS", "/var/run/netns/" + netns);
      env.put("CNI_IFNAME", "eth0");
      env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + ns + ";K8S_POD_NAME=" + name
          + ";K8S_POD_UID=" + uid);
      env.put("CNI_PATH", cniBinary.getParent().toString());
      Process p = pb.start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(("{\"cniVersion\":\"1.0.0\",\"name\":\"anetd\",\"type\":\"anetd-cni\","
            + "\"agentSocket\":\"" + node.cniSocket() + "\"}").getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(60, TimeUnit.SECONDS);
      if (p.exitValue() != 0 && !command.equals("ADD")) {
        LOG.warn("lab kubelet: CNI {} of {}/{} exited {}: {}", command, ns, name, p.exitValue(),
            out.strip());
      }
      return new Cmd.Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cniBinary + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running CNI " + command, e);
    }
  }

  private static String key(Pod p) {
    return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
  }

  Optional<LabState.Pod> pod(String namespace, String name) {
    return Optional.ofNullable(running.get(namespace + "/" + name));
  }
}
