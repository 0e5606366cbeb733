package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Pods;
import org.anetd.agent.policy.ParsedPolicy.BlockPeer;
import org.anetd.agent.policy.ParsedPolicy.Direction;
import org.anetd.agent.policy.ParsedPolicy.NamedPort;
import org.anetd.agent.policy.ParsedPolicy.Peer;
import org.anetd.agent.policy.ParsedPolicy.PortRange;
import org.anetd.agent.policy.ParsedPolicy.PortSpec;
import org.anetd.agent.policy.ParsedPolicy.Rule;
import org.anetd.agent.policy.ParsedPolicy.SelectorPeer;

/**
 * Why a connection from one pod (or address) to another is allowed or denied, computed from the
 * same parsed policies the compiler reads but directly on pods, without identities or maps: it is
 * both the explanation {@code anetd policy trace} prints and an independent check of the
 * compiled entries. One known difference: for an egress named port the datapath resolves the
 * name per peer identity (all pods with the same labels), the trace per peer pod.
 */
public record PolicyTrace(Endpoint from, Endpoint to, Protocol protocol, int port, Side egress,
    Side ingress, boolean allowed) {

  /** What to trace from or to: a pod by namespace/name, or an address. */
  public sealed interface Subject {
    static Subject pod(String namespace, String name) {
      return new PodSubject(namespace, name);
    }

    static Subject ip(String address) {
      return new IpSubject(Ipv4.parse(address));
    }
  }

  public record PodSubject(String namespace, String name) implements Subject {}

  public record IpSubject(Ipv4 address) implements Subject {}

  /**
   * A resolved subject: {@code pod} is set for pods that own their IP (policies select them);
   * {@code node} for node addresses (and hostNetwork pods), which ipBlocks do not match.
   */
  public record Endpoint(String name, Ipv4 ip, Optional<Pod> pod, Optional<String> node) {
    @Override
    public String toString() {
      return name + " (" + ip + ")";
    }
  }

  /** A rule that matched: policy, direction and index, and which peer and port matched. */
  public record RuleMatch(ObjectRef policy, int rule, String peer, String port) {}

  /**
   * One direction. {@code isolating} are the selecting policies that have this policyType;
   * {@code reason} says in words how the side decided.
   */
  public record Side(int direction, List<ObjectRef> selecting, List<ObjectRef> isolating,
      List<RuleMatch> matches, boolean allowed, String reason) {
    public Side {
      selecting = List.copyOf(selecting);
      isolating = List.copyOf(isolating);
      matches = List.copyOf(matches);
    }
  }

  public static PolicyTrace trace(ClusterState state, Subject from, Subject to, Protocol proto,
      int port) {
    Policies policies = Policies.parse(state);
    Endpoint src = resolve(state, from);
    Endpoint dst = resolve(state, to);
    if (src.pod().isPresent() && src.equals(dst)) {
      // A pod reaching its own IP stays on its loopback: no datapath hook sees it.
      Side self = new Side(Direction.EGRESS, List.of(), List.of(), List.of(), true,
          "traffic to itself never leaves the pod");
      return new PolicyTrace(src, dst, proto, port, self,
          new Side(Direction.INGRESS, List.of(), List.of(), List.of(), true, self.reason()), true);
    }
    Side egress = side(state, policies, Direction.EGRESS, src, dst, proto, port);
    Side ingress = side(state, policies, Direction.INGRESS, src, dst, proto, port);
    return new PolicyTrace(src, dst, proto, port, egress, ingress,
        egress.allowed() && ingress.allowed());
  }

  /** Human-readable, one fact per line. */
  public String render() {
    StringBuilder b = new StringBuilder();
    b.append("trace ").append(from).append(" -> ").append(to).append(' ').append(protocol)
        .append('/').append(port).append('\n');
    for (Side s : List.of(egress, ingress)) {
      Endpoint at = s.direction() == Direction.EGRESS ? from : to;
      b.append(Direction.name(s.direction())).append(" at ").append(at.name()).append(": ");
      if (!s.selecting().isEmpty()) {
        b.append("selected by ").append(s.selecting()).append("; ");
      }
      b.append(s.reason()).append('\n');
      for (RuleMatch m : s.matches()) {
        b.append("  allowed by ").append(m.policy()).append(' ')
            .append(Direction.name(s.direction())).append('[').append(m.rule()).append("]: from/to ")
            .append(m.peer()).append(", port ").append(m.port()).append('\n');
      }
    }
    b.append("verdict: ").append(allowed ? "ALLOWED" : "DENIED").append(" (").append(decidedBy())
        .append(")\n");
    return b.toString();
  }

  /** Which policies decided: the denying side's isolating policies, or the allowing rules. */
  public String decidedBy() {
    for (Side s : List.of(egress, ingress)) {
      if (!s.allowed()) {
        return Direction.name(s.direction()) + " default deny of " + s.isolating();
      }
    }
    return Stream.of(egress, ingress)
        .map(s -> Direction.name(s.direction()) + ": " + (s.matches().isEmpty() ? s.reason()
            : s.matches().stream().map(m -> m.policy().toString()).distinct()
                .collect(Collectors.joining(", "))))
        .collect(Collectors.joining("; "));
  }

  private static Side side(ClusterState state, Policies policies, int dir, Endpoint src,
      Endpoint dst, Protocol proto, int port) {
    Endpoint self = dir == Direction.EGRESS ? src : dst;
    Endpoint peer = dir == Direction.EGRESS ? dst : src;
    if (self.pod().isEmpty()) {
      return new Side(dir, List.of(), List.of(), List.of(), true,
          "not a pod endpoint: no policy applies");
    }
    Pod pod = self.pod().get();
    List<ParsedPolicy> selecting = policies.policies().stream()
        .filter(p -> p.selects(Cluster.namespace(pod), Cluster.labels(pod))).toList();
    List<ParsedPolicy> isolating = selecting.stream().filter(p -> p.hasType(dir)).toList();
    List<ObjectRef> sel = selecting.stream().map(ParsedPolicy::ref).toList();
    List<ObjectRef> iso = isolating.stream().map(ParsedPolicy::ref).toList();
    if (isolating.isEmpty()) {
      return new Side(dir, sel, iso, List.of(), true,
          "not isolated (no " + Direction.name(dir) + " policy selects it)");
    }
    if (peer.node().isPresent() && peer.node().get().equals(Cluster.nodeName(pod))) {
      return new Side(dir, sel, iso, List.of(), true,
          "isolated, but traffic with the pod's own node is always allowed");
    }
    List<RuleMatch> matches = new ArrayList<>();
    for (ParsedPolicy p : isolating) {
      for (Rule r : p.rules(dir)) {
        Optional<String> peerMatch = r.peers().isEmpty() ? Optional.of("any peer")
            : r.peers().stream().filter(x -> peerMatches(state, x, peer)).findFirst()
                .map(Peer::toString);
        Optional<String> portMatch = r.ports().isEmpty() ? Optional.of("any")
            : r.ports().stream().filter(x -> portMatches(x, dst, proto, port)).findFirst()
                .map(PortSpec::toString);
        if (peerMatch.isPresent() && portMatch.isPresent()) {
          matches.add(new RuleMatch(p.ref(), r.index(), peerMatch.get(), portMatch.get()));
        }
      }
    }
    return new Side(dir, sel, iso, matches, !matches.isEmpty(), matches.isEmpty()
        ? "isolated by " + iso + "; no rule matches: default deny"
        : "isolated by " + iso + "; allowed");
  }

  private static boolean peerMatches(ClusterState state, Peer peer, Endpoint other) {
    if (peer instanceof SelectorPeer s) {
      return other.pod().map(p -> s.matches(Cluster.namespace(p),
          Cluster.namespaceLabels(state, Cluster.namespace(p)), Cluster.labels(p))).orElse(false);
    }
    return other.node().isEmpty() && ((BlockPeer) peer).block().matches(other.ip());
  }

  /** Named ports name the destination pod's containerPort in both directions. */
  private static boolean portMatches(PortSpec spec, Endpoint dst, Protocol proto, int port) {
    if (spec instanceof PortRange r) {
      return r.matches(proto, port);
    }
    NamedPort n = (NamedPort) spec;
    return n.protocol() == proto && dst.pod()
        .map(p -> Cluster.namedPort(p, n.name(), proto).contains(port)).orElse(false);
  }

  private static Endpoint resolve(ClusterState state, Subject s) {
    if (s instanceof PodSubject ps) {
      Pod pod = state.pods().stream()
          .filter(p -> ps.namespace().equals(Cluster.namespace(p))
              && ps.name().equals(p.getMetadata().getName()))
          .findFirst().orElseThrow(() -> new IllegalArgumentException(
              "no pod " + ps.namespace() + "/" + ps.name()));
      if (Cluster.hostNetwork(pod)) {
        String node = Cluster.nodeName(pod);
        return new Endpoint(Cluster.key(pod) + " on host network", Cluster.internalIp(state, node),
            Optional.empty(), Optional.ofNullable(node));
      }
      Ipv4 ip = Cluster.primaryIpv4(pod).orElseThrow(() -> new IllegalArgumentException(
          "pod " + Cluster.key(pod) + " has no IPv4 address"));
      return new Endpoint(Cluster.key(pod), ip,
          Cluster.ownsIp(pod) ? Optional.of(pod) : Optional.empty(), Optional.empty());
    }
    Ipv4 ip = ((IpSubject) s).address();
    for (Node n : state.nodes()) {
      if (Stream.of("InternalIP", "ExternalIP").anyMatch(t -> Cluster.nodeIpv4s(n, t).contains(ip))) {
        return new Endpoint("node " + n.getMetadata().getName(), ip, Optional.empty(),
            Optional.of(n.getMetadata().getName()));
      }
    }
    return Cluster.podsWithIp(state).stream().filter(p -> Pods.ipv4s(p).contains(ip)).findFirst()
        .map(p -> new Endpoint(Cluster.key(p), ip, Optional.of(p), Optional.<String>empty()))
        .orElse(new Endpoint(ip.toString(), ip, Optional.empty(), Optional.empty()));
  }
}
