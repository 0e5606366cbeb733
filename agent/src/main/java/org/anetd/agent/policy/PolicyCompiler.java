package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.PolicyEntry;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;
import org.anetd.agent.policy.ParsedPolicy.BlockPeer;
import org.anetd.agent.policy.ParsedPolicy.Direction;
import org.anetd.agent.policy.ParsedPolicy.NamedPort;
import org.anetd.agent.policy.ParsedPolicy.Peer;
import org.anetd.agent.policy.ParsedPolicy.PortRange;
import org.anetd.agent.policy.ParsedPolicy.PortSpec;
import org.anetd.agent.policy.ParsedPolicy.Rule;
import org.anetd.agent.policy.ParsedPolicy.SelectorPeer;
import org.anetd.agent.policy.PortPrefixes.PortPrefix;

/**
 * NetworkPolicies + pods + namespaces -> this node's policy map contents (pure).
 *
 * <p>For each local endpoint and each direction some selecting policy isolates, every rule of
 * those policies becomes allow entries keyed by (endpoint, peer identity or 0 for any peer,
 * direction, protocol, port prefix). Entries from several policies on one key are merged: the
 * entry's policy set names them all. An isolated endpoint also gets an allow-all entry for its
 * own node (host identity): Kubernetes always allows traffic between a pod and its node.
 */
public final class PolicyCompiler {
  /** Entries grouped per endpoint and direction, then by peer, protocol, port, prefix. */
  public static final Comparator<PolicyKey> KEY_ORDER = Comparator
      .comparingLong(PolicyKey::endpointId).thenComparingInt(PolicyKey::direction)
      .thenComparingLong(PolicyKey::identity).thenComparingInt(k -> k.protocol().number())
      .thenComparingInt(PolicyKey::port).thenComparingInt(PolicyKey::prefixLength);

  private PolicyCompiler() {}

  /**
   * The entry point: parses the policies, resolves identities (keeping {@code previous} ids) and
   * compiles the entries of every pod on {@code state.nodeName()} that has an endpoint.
   *
   * @param localEndpoints pod UID (or namespace/name) -> endpoint id
   */
  /** cilium-config enable-policy: when endpoints are isolated. */
  public enum Enforcement {
    /** Isolated in a direction once a policy of that type selects the endpoint (Kubernetes). */
    DEFAULT,
    /** Every endpoint isolated in both directions, selected or not (only its node is allowed). */
    ALWAYS,
    /** Nothing isolated: policies are compiled for `anetd policy trace` but not enforced. */
    NEVER
  }

  public static DesiredPolicy compile(ClusterState state, Map<String, Integer> localEndpoints,
      IdentityAllocation previous) {
    return compile(state, localEndpoints, previous, Enforcement.DEFAULT);
  }

  public static DesiredPolicy compile(ClusterState state, Map<String, Integer> localEndpoints,
      IdentityAllocation previous, Enforcement enforcement) {
    return compile(state, localEndpoints, previous, enforcement, Map.of());
  }

  /**
   * As above, numbering policy sets after {@code previousSets} (the last pass's {@link
   * DesiredPolicy#policySets()}): see {@link #numberPolicySets}.
   */
  public static DesiredPolicy compile(ClusterState state, Map<String, Integer> localEndpoints,
      IdentityAllocation previous, Enforcement enforcement,
      Map<Long, List<ObjectRef>> previousSets) {
    Policies policies = Policies.parse(state);
    Identities ids = Identities.resolve(state, policies, previous);
    PeerIndex peers = new PeerIndex(ids);
    List<Problem> problems = new ArrayList<>(policies.problems());

    TreeMap<Long, EndpointPolicy> endpoints = new TreeMap<>();
    TreeMap<PolicyKey, SortedSet<ObjectRef>> allows = new TreeMap<>(KEY_ORDER);
    for (Pod pod : Cluster.podsWithIp(state)) {
      if (!state.nodeName().equals(Cluster.nodeName(pod))) {
        continue;
      }
      var ep = Cluster.endpointId(localEndpoints, pod);
      if (ep.isEmpty()) {
        continue; // not wired yet: no endpoint, nothing to enforce on
      }
      List<ParsedPolicy> selecting = policies.policies().stream()
          .filter(p -> p.selects(Cluster.namespace(pod), Cluster.labels(pod))).toList();
      int flags = 0;
      for (int dir : new int[] {Direction.INGRESS, Direction.EGRESS}) {
        List<ParsedPolicy> isolating = selecting.stream().filter(p -> p.hasType(dir)).toList();
        boolean isolated = switch (enforcement) {
          case DEFAULT -> !isolating.isEmpty();
          case ALWAYS -> true;
          case NEVER -> false;
        };
        if (!isolated) {
          continue; // default allow: no entries needed, the datapath skips the lookup
        }
        flags |= dir == Direction.INGRESS ? EndpointPolicy.F_INGRESS_ISOLATED
            : EndpointPolicy.F_EGRESS_ISOLATED;
        TreeMap<PolicyKey, SortedSet<ObjectRef>> mine = new TreeMap<>(KEY_ORDER);
        mine.put(PolicyKey.allPorts(ep.get(), Ipcache4Value.IDENTITY_HOST, dir), new TreeSet<>(
            Comparator.comparing(ObjectRef::toString)));
        for (ParsedPolicy p : isolating) {
          for (Rule r : p.rules(dir)) {
            for (PolicyKey k : keys(ep.get(), dir, pod, r, peers, p.ref(), problems)) {
              mine.computeIfAbsent(k, x -> new TreeSet<>(Comparator.comparing(ObjectRef::toString)))
                  .add(p.ref());
            }
          }
        }
        allows.putAll(foldCovering(mine));
      }
      endpoints.put((long) ep.get(), new EndpointPolicy(ids.of(pod).orElseThrow(), flags));
    }

    TreeMap<String, List<ObjectRef>> distinct = new TreeMap<>();
    allows.values().stream().filter(s -> !s.isEmpty())
        .forEach(s -> distinct.put(s.toString(), List.copyOf(s)));
    TreeMap<Long, List<ObjectRef>> sets = numberPolicySets(distinct.values(), previousSets);
    Map<List<ObjectRef>, Long> setIds = new HashMap<>();
    sets.forEach((id, set) -> setIds.put(set, id));
    TreeMap<PolicyKey, PolicyEntry> entries = new TreeMap<>(KEY_ORDER);
    allows.forEach((k, s) -> entries.put(k,
        new PolicyEntry(setIds.get(List.copyOf(s)), PolicyEntry.VERDICT_ALLOW, false)));
    return new DesiredPolicy(ids, entries, endpoints, sets,
        new ArrayList<>(new LinkedHashSet<>(problems)));
  }

  /**
   * Ids for the distinct policy sets (in sorted order), 0 being the node-local set. A set keeps
   * the id it had in {@code previousSets}; a new one takes the lowest id no set of the previous
   * pass had. So a verdict event or a log record read against the other pass's table (while the
   * maps are rewritten, or still in the ring buffer) never names policies that did not allow the
   * connection, an id retired now is reused a pass later at the earliest, and a new policy does
   * not renumber, and so rewrite, the entries of every set after it.
   */
  static TreeMap<Long, List<ObjectRef>> numberPolicySets(Collection<List<ObjectRef>> distinct,
      Map<Long, List<ObjectRef>> previousSets) {
    Map<List<ObjectRef>, Long> before = new HashMap<>();
    previousSets.forEach((id, set) -> before.put(set, id));
    TreeMap<Long, List<ObjectRef>> sets = new TreeMap<>();
    sets.put(DesiredPolicy.NODE_LOCAL_POLICY_SET, List.of());
    long next = DesiredPolicy.NODE_LOCAL_POLICY_SET + 1;
    for (List<ObjectRef> set : distinct) {
      Long id = before.get(set);
      if (id == null || id == DesiredPolicy.NODE_LOCAL_POLICY_SET) {
        while (previousSets.containsKey(next) || sets.containsKey(next)) {
          next++;
        }
        id = next;
      }
      sets.put(id, set);
    }
    return sets;
  }

  /** The keys one rule allows for one endpoint. */
  private static List<PolicyKey> keys(long ep, int dir, Pod target, Rule rule, PeerIndex peers,
      ObjectRef policy, List<Problem> problems) {
    Set<Long> peerIds = new TreeSet<>();
    if (rule.peers().isEmpty()) {
      peerIds.add(0L); // every peer, in or outside the cluster
    } else {
      rule.peers().forEach(p -> peerIds.addAll(peers.identities(p)));
    }
    List<PolicyKey> out = new ArrayList<>();
    if (rule.ports().isEmpty()) {
      peerIds.forEach(id -> out.add(PolicyKey.allPorts(ep, id, dir)));
      return out;
    }
    for (PortSpec spec : rule.ports()) {
      if (spec instanceof PortRange r) {
        peerIds.forEach(id -> addRange(out, ep, id, dir, r.protocol(), r.first(), r.last()));
      } else if (spec instanceof NamedPort n && dir == Direction.INGRESS) {
        // Ingress: the name is the target's own containerPort, so it is resolved per endpoint.
        TreeSet<Integer> ports = Cluster.namedPort(target, n.name(), n.protocol());
        if (ports.isEmpty()) {
          problems.add(unknownName(policy, n, "pod " + Cluster.key(target)));
        }
        ports.forEach(port -> peerIds.forEach(
            id -> addRange(out, ep, id, dir, n.protocol(), port, port)));
      } else if (spec instanceof NamedPort n) {
        // Egress: the name is the peer's containerPort, so entries are per peer identity; "any
        // peer" becomes every pod identity that declares the name.
        Set<Long> candidates = peerIds.contains(0L) ? peers.podIdentities() : peerIds;
        boolean found = false;
        for (long id : candidates) {
          TreeSet<Integer> ports = new TreeSet<>();
          peers.ids.pods(id).forEach(p -> ports.addAll(Cluster.namedPort(p, n.name(), n.protocol())));
          found |= !ports.isEmpty();
          ports.forEach(port -> addRange(out, ep, id, dir, n.protocol(), port, port));
        }
        if (!found && !candidates.isEmpty()) {
          problems.add(unknownName(policy, n, "any peer pod"));
        }
      }
    }
    return out;
  }

  private static Problem unknownName(ObjectRef policy, NamedPort n, String where) {
    return new Problem(policy, Reason.UnknownPortName, "port name \"" + n.name() + "\"/"
        + n.protocol() + " is not a containerPort of " + where + "; it matches nothing there");
  }

  private static void addRange(List<PolicyKey> out, long ep, long id, int dir, Protocol proto,
      int first, int last) {
    for (PortPrefix pp : PortPrefixes.of(first, last)) {
      out.add(PolicyKey.portPrefix(ep, id, dir, proto, pp.port(), pp.bits()));
    }
  }

  /**
   * Adds to each entry the policies of every entry that covers it (same endpoint and direction,
   * same peer or any peer, a shorter or equal prefix that contains it). The datapath stops at the
   * first hit, so this makes its policy set name every policy that allows the whole entry.
   */
  static Map<PolicyKey, SortedSet<ObjectRef>> foldCovering(
      TreeMap<PolicyKey, SortedSet<ObjectRef>> mine) {
    TreeMap<PolicyKey, SortedSet<ObjectRef>> out = new TreeMap<>(KEY_ORDER);
    mine.forEach((k, s) -> {
      SortedSet<ObjectRef> all = new TreeSet<>(s);
      mine.forEach((c, cs) -> {
        if (covers(c, k)) {
          all.addAll(cs);
        }
      });
      out.put(k, all);
    });
    return out;
  }

  /** True when every packet that {@code inner} matches also matches {@code outer}. */
  static boolean covers(PolicyKey outer, PolicyKey inner) {
    if (outer.endpointId() != inner.endpointId() || outer.direction() != inner.direction()
        || (outer.identity() != 0 && outer.identity() != inner.identity())
        || outer.prefixLength() > inner.prefixLength()) {
      return false;
    }
    if (outer.prefixLength() == PolicyKey.PREFIX_BASE) {
      return true;
    }
    int bits = outer.prefixLength() - PolicyKey.PREFIX_BASE - 8;
    int mask = bits == 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    return outer.protocol() == inner.protocol() && (inner.port() & mask) == outer.port();
  }

  /** Peer -> identities, memoized across endpoints (pure: depends only on the identities). */
  static final class PeerIndex {
    final Identities ids;
    private final Map<Peer, SortedSet<Long>> cache = new HashMap<>();

    PeerIndex(Identities ids) {
      this.ids = ids;
    }

    SortedSet<Long> identities(Peer peer) {
      return cache.computeIfAbsent(peer, this::match);
    }

    Set<Long> podIdentities() {
      return new TreeSet<>(ids.podsById().keySet());
    }

    private SortedSet<Long> match(Peer peer) {
      TreeSet<Long> out = new TreeSet<>();
      for (Identities.Identity i : ids.byId().values()) {
        boolean m = peer instanceof SelectorPeer s
            ? i.kind() == Identities.Kind.POD
                && s.matches(i.namespace(), i.namespaceLabels(), i.podLabels())
            : i.blocks().contains(((BlockPeer) peer).block());
        if (m) {
          out.add(i.id());
        }
      }
      return out;
    }
  }
}
