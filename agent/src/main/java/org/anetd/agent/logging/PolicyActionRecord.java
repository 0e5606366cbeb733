package org.anetd.agent.logging;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;

/**
 * One line of the policy action log, before formatting: a connection, what policy did with it,
 * who was on each end, and when. Immutable; {@link PolicyActionFormatter} turns it into GKE's JSON.
 *
 * @param connection the addresses and ports as seen at the verdict point (after service
 *     translation on egress); the source port is 0 on aggregated deny records
 * @param disposition allow or deny
 * @param policies the NetworkPolicies that allowed the connection; always empty for denies
 * @param src the source peer
 * @param dest the destination peer
 * @param count connections (allow: always 1) or denied packets aggregated into this record
 * @param nodeName the node whose agent wrote the record
 * @param timestamp when the (first) packet was seen
 */
public record PolicyActionRecord(Connection connection, Disposition disposition,
    List<PolicyRef> policies, Peer src, Peer dest, long count, String nodeName,
    Instant timestamp) {

  public PolicyActionRecord {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(disposition, "disposition");
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dest, "dest");
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(timestamp, "timestamp");
    policies = List.copyOf(policies);
    if (disposition == Disposition.DENY && !policies.isEmpty()) {
      // A deny is the absence of an allow: no policy "denied" it, so none can be named.
      throw new IllegalArgumentException("a deny record names no policies: " + policies);
    }
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, was " + count);
    }
  }

  /** The same record with another count (a deny window adds up its packets). */
  public PolicyActionRecord withCount(long newCount) {
    return new PolicyActionRecord(connection, disposition, policies, src, dest, newCount,
        nodeName, timestamp);
  }

  /** The 5-tuple and direction, relative to the local endpoint the verdict was taken for. */
  public record Connection(Ipv4 srcIp, Ipv4 destIp, int srcPort, int destPort,
      Protocol protocol, Direction direction) {
    public Connection {
      Objects.requireNonNull(srcIp, "srcIp");
      Objects.requireNonNull(destIp, "destIp");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(direction, "direction");
      checkPort("srcPort", srcPort);
      checkPort("destPort", destPort);
    }

    /** The deny aggregation key: retries of one attempt differ only in the source port. */
    public Connection withoutSourcePort() {
      return new Connection(srcIp, destIp, 0, destPort, protocol, direction);
    }

    private static void checkPort(String name, int port) {
      if (port < 0 || port > 0xffff) {
        throw new IllegalArgumentException(name + " out of range: " + port);
      }
    }
  }

  /** What policy did with the connection; {@link #json()} is the log's spelling. */
  public enum Disposition {
    ALLOW("allow"), DENY("deny");

    private final String json;

    Disposition(String json) {
      this.json = json;
    }

    public String json() {
      return json;
    }
  }

  /** Relative to the local endpoint: ingress = into it, egress = out of it. */
  public enum Direction {
    INGRESS("ingress"), EGRESS("egress");

    private final String json;

    Direction(String json) {
      this.json = json;
    }

    public String json() {
      return json;
    }
  }

  /** A policy that allowed the connection. {@code kind} is "NetworkPolicy" today. */
  public record PolicyRef(String name, String namespace, String kind) {
    public static final String NETWORK_POLICY = "NetworkPolicy";

    public PolicyRef {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(kind, "kind");
    }
  }

  /** One end of the connection: a pod of this cluster, or any other address. */
  public sealed interface Peer permits PodPeer, InstancePeer {}

  /**
   * A pod, with the workload that owns it. A bare pod has empty {@code workloadKind} and {@code
   * workloadName} (see {@link EndpointResolver#workloadOf}).
   */
  public record PodPeer(String podName, String podNamespace, String workloadKind,
      String workloadName) implements Peer {
    public PodPeer {
      Objects.requireNonNull(podName, "podName");
      Objects.requireNonNull(podNamespace, "podNamespace");
      Objects.requireNonNull(workloadKind, "workloadKind");
      Objects.requireNonNull(workloadName, "workloadName");
    }
  }

  /** An address that is no pod of the snapshot: a node, a host-network pod, the world. */
  public record InstancePeer(Ipv4 ip) implements Peer {
    public InstancePeer {
      Objects.requireNonNull(ip, "ip");
    }
  }
}
