package org.anetd.agent.policy;

import java.util.Map;
import java.util.Optional;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.PolicyEntry;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.policy.ParsedPolicy.Direction;

/**
 * The datapath's policy decision over one node's maps, in Java: the reference that the C in
 * {@code bpf_lxc.c} mirrors, and what the truth-table tests run against compiled maps.
 *
 * <p>For a packet src -> dst (after service translation; replies of allowed connections pass by
 * conntrack and never get here):
 *
 * <ol>
 *   <li>{@code s = ipcache LPM(src)}, {@code d = ipcache LPM(dst)}; a miss is world (2).
 *   <li>Egress, on the node of src, when {@code s.endpoint_id != 0}: if {@code
 *       endpoints[s.endpoint_id].flags} lacks EGRESS_ISOLATED, allow. Else LPM lookup
 *       {@code (s.endpoint_id, d.identity, EGRESS, proto, dport)} with full prefix; on a miss,
 *       {@code (s.endpoint_id, 0, EGRESS, proto, dport)}; on a miss, drop (default deny).
 *   <li>Ingress, on the node of dst, when {@code d.endpoint_id != 0}: the same with
 *       INGRESS_ISOLATED, {@code (d.endpoint_id, s.identity, INGRESS, proto, dport)} then
 *       {@code (d.endpoint_id, 0, INGRESS, proto, dport)}.
 *   <li>The packet passes when neither step dropped it; the hit entry's policy_set_id names the
 *       allowing policies for the log.
 * </ol>
 *
 * <p>dport is 0 for protocols without ports (ICMP): only all-ports entries match them.
 */
public final class PolicyLookup {
  /** The outcome of one direction's check. */
  public enum Verdict { ALLOWED, DENIED, NOT_ISOLATED, NOT_LOCAL }

  /**
   * One direction's result: {@code matched} is the policy key that hit (empty unless ALLOWED).
   */
  public record Result(int direction, Verdict verdict, long endpointId, long peerIdentity,
      Optional<PolicyKey> matched, long policySetId) {
    public boolean passes() {
      return verdict != Verdict.DENIED;
    }
  }

  private final Map<Ipcache4Key, Ipcache4Value> ipcache;
  private final Map<PolicyKey, PolicyEntry> entries;
  private final Map<Long, EndpointPolicy> endpoints;

  public PolicyLookup(Map<Ipcache4Key, Ipcache4Value> ipcache, Map<PolicyKey, PolicyEntry> entries,
      Map<Long, EndpointPolicy> endpoints) {
    this.ipcache = Map.copyOf(ipcache);
    this.entries = Map.copyOf(entries);
    this.endpoints = Map.copyOf(endpoints);
  }

  public static PolicyLookup of(DesiredPolicy policy, Map<Ipcache4Key, Ipcache4Value> ipcache) {
    return new PolicyLookup(ipcache, policy.entries(), policy.endpoints());
  }

  /** Longest-prefix match; world when nothing matches. */
  public Ipcache4Value ipcache(Ipv4 ip) {
    for (int len = 32; len >= 0; len--) {
      Ipcache4Value v = ipcache.get(new Ipcache4Key(len, ip));
      if (v != null) {
        return v;
      }
    }
    return new Ipcache4Value(Ipcache4Value.IDENTITY_WORLD, Ipv4.ANY, 0);
  }

  public Result egress(Ipv4 src, Ipv4 dst, Protocol proto, int dport) {
    return check(Direction.EGRESS, ipcache(src).endpointId(), ipcache(dst).identity(), proto,
        dport);
  }

  public Result ingress(Ipv4 src, Ipv4 dst, Protocol proto, int dport) {
    return check(Direction.INGRESS, ipcache(dst).endpointId(), ipcache(src).identity(), proto,
        dport);
  }

  private Result check(int dir, long ep, long peer, Protocol proto, int dport) {
    if (ep == 0) {
      return new Result(dir, Verdict.NOT_LOCAL, ep, peer, Optional.empty(), 0);
    }
    EndpointPolicy e = endpoints.get(ep);
    int flag = dir == Direction.INGRESS ? EndpointPolicy.F_INGRESS_ISOLATED
        : EndpointPolicy.F_EGRESS_ISOLATED;
    if (e == null || (e.flags() & flag) == 0) {
      return new Result(dir, Verdict.NOT_ISOLATED, ep, peer, Optional.empty(), 0);
    }
    Optional<PolicyKey> hit = lookup(ep, peer, dir, proto, dport)
        .or(() -> lookup(ep, 0, dir, proto, dport));
    return hit.map(k -> new Result(dir, Verdict.ALLOWED, ep, peer, hit, entries.get(k).policySetId()))
        .orElseGet(() -> new Result(dir, Verdict.DENIED, ep, peer, Optional.empty(), 0));
  }

  /**
   * LPM over the policy trie. Only prefix lengths the compiler writes are probed (base, then
   * protocol plus 0..16 port bits); a kernel LPM over the same entries gives the same answer.
   */
  public Optional<PolicyKey> lookup(long ep, long identity, int dir, Protocol proto, int dport) {
    for (int len = PolicyKey.PREFIX_FULL; len >= PolicyKey.PREFIX_BASE + 8; len--) {
      PolicyKey k = new PolicyKey(len, ep, identity, dir, proto, dport);
      if (entries.containsKey(k)) {
        return Optional.of(k);
      }
    }
    PolicyKey any = PolicyKey.allPorts(ep, identity, dir);
    return entries.containsKey(any) ? Optional.of(any) : Optional.empty();
  }
}
