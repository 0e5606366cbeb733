package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.anetd.agent.bpf.NetworkNamespace;

/**
 * {@code anetd lab probe NS/POD TARGET:PORT}: one connection attempt from inside the pod's
 * network namespace, reported as one word. TCP: {@code connected} (the handshake completed),
 * {@code refused} (RST), {@code timeout} (no answer, or no route). UDP sends {@code hostname}:
 * {@code connected} (an answer came back), {@code refused} (ICMP port unreachable),
 * {@code timeout} (nothing).
 */
public final class LabProbe {
  public enum Result { CONNECTED, REFUSED, TIMEOUT;
    public String word() {
      return name().toLowerCase();
    }
  }

  private LabProbe() {}

  /**
   * @throws IllegalArgumentException for usage errors: unknown pod, service or target
   */
  public static Result probe(Path stateDir, String from, String target, String proto,
      int timeoutMs) {
    if (!proto.equals("tcp") && !proto.equals("udp")) {
      throw new IllegalArgumentException("--proto must be tcp or udp, not " + proto);
    }
    String[] pod = from.split("/", -1);
    if (pod.length != 2 || pod[0].isEmpty() || pod[1].isEmpty()) {
      throw new IllegalArgumentException("\"" + from + "\" is not NAMESPACE/POD");
    }
    ProbeTarget.WithPort t = ProbeTarget.parse(target);
    LabState.Lab lab = LabState.readLab(stateDir).orElseThrow(() -> new IllegalArgumentException(
        "no lab at " + stateDir + ": run `anetd lab up` first"));
    LabState.Pod source = LabState.readPod(stateDir, pod[0], pod[1]).orElseThrow(
        () -> new IllegalArgumentException("pod " + from + " is not running in the lab"));
    String ip = resolve(stateDir, lab, source, t.target());
    Path netns = NetworkNamespace.named(source.netns());
    if (!Files.exists(netns)) {
      throw new IllegalArgumentException("pod " + from + " has no network namespace " + netns);
    }
    InetSocketAddress address = new InetSocketAddress(ip, t.port());
    return NetworkNamespace.call(netns, () -> proto.equals("tcp") ? tcp(address, timeoutMs)
        : udp(address, timeoutMs));
  }

  /**
   * The address to probe. A pod the lab runs is looked up in its record (the address its CNI ADD
   * gave it), so probing a pod costs the API server nothing; services and pods the lab does not
   * run are asked of the API server.
   */
  static String resolve(Path stateDir, LabState.Lab lab, LabState.Pod source,
      ProbeTarget target) {
    if (target instanceof ProbeTarget.Address a) {
      return a.ip();
    }
    if (target instanceof ProbeTarget.Node) {
      return lab.nodes().stream().filter(x -> x.name().equals(source.node())).findFirst()
          .map(LabState.Node::ip).orElseThrow();
    }
    if (target instanceof ProbeTarget.PodName p) {
      Optional<LabState.Pod> running = LabState.readPod(stateDir, p.namespace(), p.name());
      if (running.isPresent() && !running.get().ip().isEmpty()) {
        return running.get().ip();
      }
    }
    try (KubernetesClient client = EmbeddedApiServer.clientFor(lab.apiServer())) {
      if (target instanceof ProbeTarget.ServiceName s) {
        Service svc = client.services().inNamespace(s.namespace()).withName(s.name()).get();
        if (svc == null || svc.getSpec().getClusterIP() == null
            || svc.getSpec().getClusterIP().isEmpty() || svc.getSpec().getClusterIP().equals("None")) {
          throw new IllegalArgumentException("service " + s.namespace() + "/" + s.name()
              + " has no ClusterIP");
        }
        return svc.getSpec().getClusterIP();
      }
      ProbeTarget.PodName p = (ProbeTarget.PodName) target;
      Pod pod = client.pods().inNamespace(p.namespace()).withName(p.name()).get();
      if (pod == null || SliceDesign.podIp(pod).isEmpty()) {
        throw new IllegalArgumentException("pod " + p.namespace() + "/" + p.name() + " has no IP");
      }
      return SliceDesign.podIp(pod).get();
    }
  }

  private static Result tcp(InetSocketAddress address, int timeoutMs) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(address, timeoutMs);
      return Result.CONNECTED;
    } catch (ConnectException e) {
      return e.getMessage() != null && e.getMessage().contains("refused") ? Result.REFUSED
          : Result.TIMEOUT;
    } catch (SocketTimeoutException | NoRouteToHostException e) {
      return Result.TIMEOUT;
    }
  }

  private static Result udp(InetSocketAddress address, int timeoutMs) throws IOException {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(0))) {
      s.setSoTimeout(timeoutMs);
      s.connect(address);
      byte[] out = "hostname\n".getBytes(StandardCharsets.US_ASCII);
      s.send(new DatagramPacket(out, out.length));
      s.receive(new DatagramPacket(new byte[2048], 2048));
      return Result.CONNECTED;
    } catch (PortUnreachableException e) {
      return Result.REFUSED;
    } catch (SocketTimeoutException | NoRouteToHostException e) {
      return Result.TIMEOUT;
    }
  }
}
