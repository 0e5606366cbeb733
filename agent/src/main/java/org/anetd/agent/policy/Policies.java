package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.policy.ParsedPolicy.BlockPeer;
import org.anetd.agent.policy.ParsedPolicy.NamedPort;
import org.anetd.agent.policy.ParsedPolicy.Peer;
import org.anetd.agent.policy.ParsedPolicy.PortRange;
import org.anetd.agent.policy.ParsedPolicy.PortSpec;
import org.anetd.agent.policy.ParsedPolicy.Rule;
import org.anetd.agent.policy.ParsedPolicy.SelectorPeer;

/**
 * Validates and defaults the snapshot's NetworkPolicies into {@link ParsedPolicy} values.
 *
 * <p>Bad input never widens access. An invalid peer or port is dropped from its rule; when that
 * leaves a rule that had peers (or ports) with none, the whole rule is dropped rather than read
 * as "all peers" (or "all ports"). The policy itself stays: it still selects and isolates its
 * pods, so a broken allow rule denies more, never less. Only an invalid spec.podSelector skips
 * the whole policy, because then nobody knows which pods it isolates (the API server rejects
 * such objects, so this is a corrupted-input path).
 *
 * @param policies valid policies, sorted by namespace and name
 */
public record Policies(List<ParsedPolicy> policies, List<Problem> problems) {
  private static final Pattern SVC_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

  public Policies {
    policies = List.copyOf(policies);
    problems = List.copyOf(problems);
  }

  public static Policies parse(ClusterState state) {
    List<ParsedPolicy> out = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    state.networkPolicies().stream().sorted(Comparator.comparing(np -> ObjectRef.of(np).toString()))
        .forEach(np -> parse(np, problems).ifPresent(out::add));
    return new Policies(out, problems);
  }

  /** Every distinct IPv4 ipBlock any valid peer uses, sorted. */
  public List<IpBlock> blocks() {
    TreeSet<IpBlock> blocks = new TreeSet<>();
    for (ParsedPolicy p : policies) {
      for (Rule r : concat(p.ingress(), p.egress())) {
        r.peers().stream().filter(BlockPeer.class::isInstance).map(BlockPeer.class::cast)
            .map(BlockPeer::block).forEach(blocks::add);
      }
    }
    return List.copyOf(blocks);
  }

  static Optional<ParsedPolicy> parse(NetworkPolicy np, List<Problem> problems) {
    ObjectRef ref = new ObjectRef("NetworkPolicy", np.getMetadata().getNamespace(),
        np.getMetadata().getName());
    NetworkPolicySpec spec = np.getSpec() == null ? new NetworkPolicySpec() : np.getSpec();
    Optional<Problem> bad = checkPodSelector(ref, spec);
    if (bad.isPresent()) {
      problems.add(bad.get());
      return Optional.empty();
    }
    List<NetworkPolicyIngressRule> in = orEmpty(spec.getIngress());
    List<NetworkPolicyEgressRule> eg = orEmpty(spec.getEgress());
    boolean ingressType;
    boolean egressType;
    List<String> types = orEmpty(spec.getPolicyTypes());
    if (types.isEmpty()) {
      // The API server's defaulting: Ingress always, Egress only when egress rules exist.
      ingressType = true;
      egressType = !eg.isEmpty();
    } else {
      ingressType = types.contains("Ingress");
      egressType = types.contains("Egress");
      types.stream().filter(t -> !t.equals("Ingress") && !t.equals("Egress")).distinct()
          .forEach(t -> problems.add(new Problem(ref, Reason.UnknownPolicyType,
              "policyType \"" + t + "\" is neither Ingress nor Egress; ignored")));
    }
    String ns = ref.namespace();
    List<Rule> ingress = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      rule(ref, ns, "ingress", i, orEmpty(in.get(i).getFrom()), orEmpty(in.get(i).getPorts()),
          problems).ifPresent(ingress::add);
    }
    List<Rule> egress = new ArrayList<>();
    for (int i = 0; i < eg.size(); i++) {
      rule(ref, ns, "egress", i, orEmpty(eg.get(i).getTo()), orEmpty(eg.get(i).getPorts()),
          problems).ifPresent(egress::add);
    }
    // Rules of a type the policy does not have are ignored, as upstream does.
    return Optional.of(new ParsedPolicy(ref, ns, Selector.of(spec.getPodSelector()), ingressType,
        egressType, ingressType ? ingress : List.of(), egressType ? egress : List.of()));
  }

  private static Optional<Rule> rule(ObjectRef ref, String ns, String dir, int index,
      List<NetworkPolicyPeer> rawPeers, List<NetworkPolicyPort> rawPorts, List<Problem> problems) {
    String where = dir + "[" + index + "]";
    List<Peer> peers = new ArrayList<>();
    for (int i = 0; i < rawPeers.size(); i++) {
      NetworkPolicyPeer raw = rawPeers.get(i);
      Optional<Problem> bad = checkPeer(ref, where + ".peer[" + i + "]", raw);
      if (bad.isPresent()) {
        problems.add(bad.get());
      } else {
        peer(ns, raw).ifPresent(peers::add);
      }
    }
    List<PortSpec> ports = new ArrayList<>();
    for (int i = 0; i < rawPorts.size(); i++) {
      NetworkPolicyPort raw = rawPorts.get(i);
      Optional<Problem> bad = checkPort(ref, where + ".ports[" + i + "]", raw);
      if (bad.isPresent()) {
        problems.add(bad.get());
      } else {
        ports.add(port(raw));
      }
    }
    // An emptied list must not turn into "everything": drop the rule instead.
    if (!rawPeers.isEmpty() && peers.isEmpty()) {
      return Optional.empty();
    }
    if (!rawPorts.isEmpty() && ports.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Rule(index, peers, ports));
  }

  static Optional<Problem> checkPodSelector(ObjectRef ref, NetworkPolicySpec spec) {
    return Selector.check(spec.getPodSelector()).map(m -> new Problem(ref,
        Reason.InvalidSelector, "spec.podSelector: " + m + "; policy skipped"));
  }

  static Optional<Problem> checkPeer(ObjectRef ref, String where, NetworkPolicyPeer p) {
    boolean selectors = p.getPodSelector() != null || p.getNamespaceSelector() != null;
    if (p.getIpBlock() != null && selectors) {
      return Optional.of(new Problem(ref, Reason.InvalidPeer,
          where + ": ipBlock cannot be combined with selectors; peer dropped"));
    }
    if (p.getIpBlock() == null && !selectors) {
      return Optional.of(new Problem(ref, Reason.InvalidPeer,
          where + ": needs ipBlock, podSelector or namespaceSelector; peer dropped"));
    }
    if (p.getIpBlock() != null) {
      return checkIpBlock(p.getIpBlock()).map(m -> new Problem(ref, Reason.InvalidCidr,
          where + ".ipBlock: " + m + "; peer dropped"));
    }
    return Selector.check(p.getNamespaceSelector()).map(m -> "namespaceSelector: " + m)
        .or(() -> Selector.check(p.getPodSelector()).map(m -> "podSelector: " + m))
        .map(m -> new Problem(ref, Reason.InvalidSelector, where + "." + m + "; peer dropped"));
  }

  /** An invalid except drops the whole block: ignoring only the except would widen it. */
  static Optional<String> checkIpBlock(IPBlock b) {
    String cidr = b.getCidr();
    if (Cidr.isIpv6(cidr)) {
      return orEmpty(b.getExcept()).stream().filter(e -> !Cidr.isIpv6(e)).findFirst()
          .map(e -> "except " + e + " is not in the IPv6 cidr " + cidr);
    }
    Cidr c;
    try {
      c = Cidr.parse(cidr);
    } catch (IllegalArgumentException e) {
      return Optional.of("invalid cidr \"" + cidr + "\"");
    }
    for (String e : orEmpty(b.getExcept())) {
      try {
        Cidr x = Cidr.parse(e);
        if (!c.contains(x) || x.length() == c.length()) {
          return Optional.of("except " + e + " is not strictly inside " + cidr);
        }
      } catch (IllegalArgumentException ex) {
        return Optional.of("invalid except \"" + e + "\"");
      }
    }
    return Optional.empty();
  }

  static Optional<Problem> checkPort(ObjectRef ref, String where, NetworkPolicyPort p) {
    try {
      Protocol.ofKubernetes(p.getProtocol());
    } catch (IllegalArgumentException e) {
      return Optional.of(new Problem(ref, Reason.UnsupportedProtocol,
          where + ": " + e.getMessage() + "; port dropped"));
    }
    IntOrString port = p.getPort();
    Integer end = p.getEndPort();
    Optional<String> bad;
    if (port == null) {
      bad = end == null ? Optional.empty() : Optional.of("endPort without port");
    } else if (port.getIntVal() != null) {
      int first = port.getIntVal();
      bad = first < 1 || first > 65535 ? Optional.of("port " + first + " not in 1..65535")
          : end != null && (end < first || end > 65535)
              ? Optional.of("endPort " + end + " not in " + first + "..65535") : Optional.empty();
    } else {
      String name = port.getStrVal();
      bad = end != null ? Optional.of("endPort needs a numeric port, not \"" + name + "\"")
          : !isPortName(name) ? Optional.of("invalid port name \"" + name + "\"")
          : Optional.empty();
    }
    return bad.map(m -> new Problem(ref, Reason.InvalidPort, where + ": " + m + "; port dropped"));
  }

  /** IANA_SVC_NAME: at most 15 of [a-z0-9-], a letter somewhere, no "--", no dash at the ends. */
  static boolean isPortName(String s) {
    return s != null && s.length() <= 15 && SVC_NAME.matcher(s).matches() && !s.contains("--")
        && s.chars().anyMatch(Character::isLetter);
  }

  /** A checked peer; empty for an IPv6 block, which no IPv4 address matches. */
  private static Optional<Peer> peer(String ns, NetworkPolicyPeer p) {
    if (p.getIpBlock() != null) {
      if (Cidr.isIpv6(p.getIpBlock().getCidr())) {
        return Optional.empty();
      }
      return Optional.of(new BlockPeer(new IpBlock(Cidr.parse(p.getIpBlock().getCidr()),
          orEmpty(p.getIpBlock().getExcept()).stream().map(Cidr::parse).toList())));
    }
    return Optional.of(new SelectorPeer(ns,
        p.getNamespaceSelector() == null ? null : Selector.of(p.getNamespaceSelector()),
        p.getPodSelector() == null ? null : Selector.of(p.getPodSelector())));
  }

  private static PortSpec port(NetworkPolicyPort p) {
    Protocol proto = Protocol.ofKubernetes(p.getProtocol());
    IntOrString port = p.getPort();
    if (port == null) {
      return new PortRange(proto, 0, 65535);
    }
    if (port.getIntVal() == null) {
      return new NamedPort(proto, port.getStrVal());
    }
    int first = port.getIntVal();
    return new PortRange(proto, first, p.getEndPort() == null ? first : p.getEndPort());
  }

  private static <T> List<T> orEmpty(List<T> l) {
    return l == null ? List.of() : l;
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
