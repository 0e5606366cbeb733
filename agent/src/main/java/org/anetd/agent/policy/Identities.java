package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;

/**
 * The security identities of one snapshot: every pod's, every policy CIDR region's, and the
 * reserved ones. Built by {@link #resolve}; read by the ipcache and policy compilers and the trace.
 *
 * @param allocation label set -> id for allocated identities; pass it to the next resolve
 * @param byId every identity in use (reserved ones included), sorted by id
 * @param podIdentities namespace/name -> identity of each pod that owns an IPv4 address
 * @param podsById identity -> its pods, sorted by namespace/name (named ports are resolved
 *     against them)
 * @param cidrIdentities every policy prefix (and 0.0.0.0/0) -> identity of the addresses no
 *     longer known prefix claims
 */
public record Identities(IdentityAllocation allocation, SortedMap<Long, Identity> byId,
    Map<String, Long> podIdentities, Map<Long, List<Pod>> podsById,
    SortedMap<Cidr, Long> cidrIdentities) {

  /** What an identity stands for. */
  public enum Kind { HOST, WORLD, REMOTE_NODE, POD, CIDR }

  /**
   * One identity. For pods, {@code namespace}, {@code podLabels} and {@code namespaceLabels} are
   * what selectors match; {@code blocks} are the policy ipBlocks its addresses fall in (never set
   * for host and remote-node: ipBlocks do not match node addresses).
   */
  public record Identity(long id, Kind kind, LabelSet labels, String namespace,
      Map<String, String> podLabels, Map<String, String> namespaceLabels,
      SortedSet<IpBlock> blocks) {
    public Identity {
      podLabels = Collections.unmodifiableSortedMap(new TreeMap<>(podLabels));
      namespaceLabels = Collections.unmodifiableSortedMap(new TreeMap<>(namespaceLabels));
      blocks = Collections.unmodifiableSortedSet(new TreeSet<>(blocks));
    }

    @Override
    public String toString() {
      return id + " (" + kind.name().toLowerCase().replace('_', '-') + " " + labels + ")";
    }
  }

  public Identities {
    byId = Collections.unmodifiableSortedMap(new TreeMap<>(byId));
    podIdentities = Map.copyOf(podIdentities);
    podsById = Map.copyOf(podsById);
    cidrIdentities = Collections.unmodifiableSortedMap(new TreeMap<>(cidrIdentities));
  }

  public Optional<Long> of(Pod pod) {
    return Optional.ofNullable(podIdentities.get(Cluster.key(pod)));
  }

  public List<Pod> pods(long identity) {
    return podsById.getOrDefault(identity, List.of());
  }

  /**
   * Computes the identities of {@code state}, keeping the ids of {@code previous} for label sets
   * that still exist. {@code policies} supplies the ipBlocks that split pods and CIDRs.
   */
  public static Identities resolve(ClusterState state, Policies policies,
      IdentityAllocation previous) {
    List<IpBlock> blocks = policies.blocks();
    TreeMap<Long, Identity> byId = new TreeMap<>();
    reserved(byId, Ipcache4Value.IDENTITY_HOST, Kind.HOST, "reserved:host");
    reserved(byId, Ipcache4Value.IDENTITY_REMOTE_NODE, Kind.REMOTE_NODE, "reserved:remote-node");

    // The world region (addresses in no policy prefix) is the reserved world identity, whatever
    // blocks it matches; another region matching exactly the same blocks is world too.
    TreeSet<IpBlock> worldBlocks = matching(blocks, Cidr.ALL);
    byId.put(Ipcache4Value.IDENTITY_WORLD, new Identity(Ipcache4Value.IDENTITY_WORLD, Kind.WORLD,
        new LabelSet(new TreeSet<>(List.of("reserved:world"))), "", Map.of(), Map.of(),
        worldBlocks));

    TreeMap<Cidr, TreeSet<IpBlock>> regions = new TreeMap<>();
    for (IpBlock b : blocks) {
      regions.put(b.cidr(), matching(blocks, b.cidr()));
      b.except().forEach(e -> regions.put(e, matching(blocks, e)));
    }
    regions.remove(Cidr.ALL);

    record PodLabels(Pod pod, LabelSet labels, Map<String, String> nsLabels, TreeSet<IpBlock> in) {}
    List<PodLabels> pods = new ArrayList<>();
    for (Pod p : Cluster.podsWithIp(state)) {
      Ipv4 ip = Cluster.primaryIpv4(p).orElseThrow();
      TreeSet<IpBlock> in = new TreeSet<>(blocks.stream().filter(b -> b.matches(ip)).toList());
      Map<String, String> nsLabels = Cluster.namespaceLabels(state, Cluster.namespace(p));
      pods.add(new PodLabels(p, LabelSet.ofPod(Cluster.namespace(p), Cluster.labels(p), nsLabels,
          in), nsLabels, in));
    }

    List<LabelSet> wanted = new ArrayList<>();
    pods.forEach(p -> wanted.add(p.labels()));
    regions.values().stream().filter(m -> !m.equals(worldBlocks)).map(LabelSet::ofCidr)
        .forEach(wanted::add);
    IdentityAllocation allocation = IdentityAllocator.allocate(previous, wanted);

    TreeMap<Cidr, Long> cidrIds = new TreeMap<>();
    cidrIds.put(Cidr.ALL, Ipcache4Value.IDENTITY_WORLD);
    regions.forEach((cidr, m) -> {
      if (m.equals(worldBlocks)) {
        cidrIds.put(cidr, Ipcache4Value.IDENTITY_WORLD);
      } else {
        LabelSet labels = LabelSet.ofCidr(m);
        long id = allocation.ids().get(labels);
        cidrIds.put(cidr, id);
        byId.put(id, new Identity(id, Kind.CIDR, labels, "", Map.of(), Map.of(), m));
      }
    });

    TreeMap<String, Long> podIds = new TreeMap<>();
    TreeMap<Long, List<Pod>> podsById = new TreeMap<>();
    for (PodLabels p : pods) {
      long id = allocation.ids().get(p.labels());
      podIds.put(Cluster.key(p.pod()), id);
      podsById.computeIfAbsent(id, k -> new ArrayList<>()).add(p.pod());
      byId.putIfAbsent(id, new Identity(id, Kind.POD, p.labels(), Cluster.namespace(p.pod()),
          Cluster.labels(p.pod()), p.nsLabels(), p.in()));
    }
    podsById.replaceAll((k, v) -> List.copyOf(v));
    return new Identities(allocation, byId, podIds, podsById, cidrIds);
  }

  private static void reserved(Map<Long, Identity> byId, long id, Kind kind, String label) {
    byId.put(id, new Identity(id, kind, new LabelSet(new TreeSet<>(List.of(label))), "", Map.of(),
        Map.of(), new TreeSet<>()));
  }

  private static TreeSet<IpBlock> matching(List<IpBlock> blocks, Cidr region) {
    return new TreeSet<>(blocks.stream().filter(b -> b.matchesRegion(region)).toList());
  }
}
