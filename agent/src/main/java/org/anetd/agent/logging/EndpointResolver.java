package org.anetd.agent.logging;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Pods;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyActionRecord.Peer;
import org.anetd.agent.logging.PolicyActionRecord.PodPeer;

/**
 * Who is behind an address, in one {@link ClusterState} snapshot: a pod (with its workload) or
 * an "instance" (any address no pod owns: nodes, host-network pods, the world). Pure; build one
 * per snapshot with {@link #of} and reuse it, the index costs one pass over the pods.
 */
public final class EndpointResolver {
  /** The label the Deployment controller puts on a ReplicaSet's pods (and in the RS name). */
  static final String POD_TEMPLATE_HASH = "pod-template-hash";
  /**
   * A CronJob names its Jobs {@code <cronjob>-<scheduled time in minutes since the epoch>}: eight
   * or more digits for any time after 1989. A hand-made Job called "migrate-2" stays a Job.
   */
  private static final Pattern CRONJOB_JOB = Pattern.compile("(.+)-(\\d{8,})");

  /** The controller of a pod as GKE names it; both empty for a bare pod. */
  public record Workload(String kind, String name) {
    public static final Workload NONE = new Workload("", "");
  }

  private final Map<Ipv4, Pod> podsByIp;

  private EndpointResolver(Map<Ipv4, Pod> podsByIp) {
    this.podsByIp = Map.copyOf(podsByIp);
  }

  public static EndpointResolver of(ClusterState state) {
    Map<Ipv4, Pod> byIp = new HashMap<>();
    // When two pods claim an address (a finished pod not yet gone, a pod being replaced), the
    // running one wins, then the newer one: that is the pod packets reach.
    List<Pod> owners = state.pods().stream().filter(EndpointResolver::ownsIp)
        .sorted(Comparator.comparing(EndpointResolver::running)
            .thenComparing(EndpointResolver::created)
            .thenComparing(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()))
        .toList();
    for (Pod p : owners) {
      Pods.ipv4s(p).forEach(ip -> byIp.put(ip, p)); // later (preferred) pods overwrite
    }
    return new EndpointResolver(byIp);
  }

  /** The peer behind {@code ip}: the pod that owns it, else the bare address. */
  public Peer resolve(Ipv4 ip) {
    Pod p = podsByIp.get(ip);
    if (p == null) {
      return new InstancePeer(ip);
    }
    Workload w = workloadOf(p);
    return new PodPeer(p.getMetadata().getName(), p.getMetadata().getNamespace(), w.kind(),
        w.name());
  }

  /** The pod that owns {@code ip}, if any. */
  public Optional<Pod> pod(Ipv4 ip) {
    return Optional.ofNullable(podsByIp.get(ip));
  }

  /**
   * The workload of a pod, from its controller owner reference. ClusterState holds no
   * ReplicaSets or Jobs, so their owners are inferred from names, as the controllers build them:
   *
   * <ul>
   *   <li>ReplicaSet "web-5d9c7b8f6" with pod label pod-template-hash=5d9c7b8f6 -> Deployment
   *       "web" (a ReplicaSet without that label or suffix stays a ReplicaSet);
   *   <li>Job "backup-29125440" -> CronJob "backup" (see {@link #CRONJOB_JOB});
   *   <li>StatefulSet, DaemonSet, Job and any other controller kind -> itself;
   *   <li>no owner, or a Node (static pods' mirror) -> {@link Workload#NONE}.
   * </ul>
   */
  public static Workload workloadOf(Pod pod) {
    Optional<OwnerReference> owner = controller(pod);
    if (owner.isEmpty()) {
      return Workload.NONE;
    }
    String kind = owner.get().getKind();
    String name = owner.get().getName();
    if (kind == null || name == null || kind.equals("Node")) {
      return Workload.NONE;
    }
    if (kind.equals("ReplicaSet")) {
      String hash = labels(pod).get(POD_TEMPLATE_HASH);
      if (hash != null && !hash.isEmpty() && name.endsWith("-" + hash)
          && name.length() > hash.length() + 1) {
        return new Workload("Deployment", name.substring(0, name.length() - hash.length() - 1));
      }
    }
    if (kind.equals("Job")) {
      Matcher m = CRONJOB_JOB.matcher(name);
      if (m.matches()) {
        return new Workload("CronJob", m.group(1));
      }
    }
    return new Workload(kind, name);
  }

  /** The controller owner (controller=true), else the first owner. */
  private static Optional<OwnerReference> controller(Pod pod) {
    List<OwnerReference> refs = pod.getMetadata().getOwnerReferences();
    if (refs == null || refs.isEmpty()) {
      return Optional.empty();
    }
    return refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst()
        .or(() -> Optional.of(refs.get(0)));
  }

  private static Map<String, String> labels(Pod p) {
    Map<String, String> l = p.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  /** Host-network pods share the node's address; finished pods have given theirs back. */
  private static boolean ownsIp(Pod p) {
    boolean hostNetwork = p.getSpec() != null && Boolean.TRUE.equals(p.getSpec().getHostNetwork());
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return !hostNetwork && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private static boolean running(Pod p) {
    return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
  }

  private static String created(Pod p) {
    String t = p.getMetadata().getCreationTimestamp();
    return t == null ? "" : t; // RFC 3339 in UTC sorts as text
  }

}
