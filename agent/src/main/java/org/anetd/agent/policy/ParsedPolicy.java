package org.anetd.agent.policy;

import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ObjectRef;

/**
 * A NetworkPolicy after validation and defaulting: the one semantic model that the compiler and
 * the trace both read, so they cannot disagree on what a policy means.
 *
 * @param ingressType Ingress is in policyTypes (after defaulting): selected pods are isolated
 *     for ingress
 * @param egressType likewise for Egress
 */
public record ParsedPolicy(ObjectRef ref, String namespace, Selector podSelector,
    boolean ingressType, boolean egressType, List<Rule> ingress, List<Rule> egress) {

  public ParsedPolicy {
    ingress = List.copyOf(ingress);
    egress = List.copyOf(egress);
  }

  public boolean selects(String podNamespace, Map<String, String> podLabels) {
    return namespace.equals(podNamespace) && podSelector.matches(podLabels);
  }

  public boolean hasType(int direction) {
    return direction == Direction.INGRESS ? ingressType : egressType;
  }

  public List<Rule> rules(int direction) {
    return direction == Direction.INGRESS ? ingress : egress;
  }

  /**
   * One ingress or egress rule. {@code index} is its position in the policy (for traces).
   *
   * @param peers empty = every peer, in or outside the cluster
   * @param ports empty = every port and protocol
   */
  public record Rule(int index, List<Peer> peers, List<PortSpec> ports) {
    public Rule {
      peers = List.copyOf(peers);
      ports = List.copyOf(ports);
    }
  }

  /** A from/to entry. */
  public sealed interface Peer {}

  /**
   * Pods chosen by labels. {@code namespaces} null means the policy's own namespace; {@code pods}
   * null means every pod of the chosen namespaces.
   */
  public record SelectorPeer(String policyNamespace, Selector namespaces, Selector pods)
      implements Peer {
    public boolean matches(String podNamespace, Map<String, String> namespaceLabels,
        Map<String, String> podLabels) {
      boolean ns = namespaces == null ? policyNamespace.equals(podNamespace)
          : namespaces.matches(namespaceLabels);
      return ns && (pods == null || pods.matches(podLabels));
    }

    @Override
    public String toString() {
      return (namespaces == null ? "namespace " + policyNamespace : "namespaces {" + namespaces + "}")
          + (pods == null ? ", all pods" : ", pods {" + pods + "}");
    }
  }

  /** Addresses in an IPv4 ipBlock. */
  public record BlockPeer(IpBlock block) implements Peer {
    @Override
    public String toString() {
      return "ipBlock " + block;
    }
  }

  /** A ports entry. */
  public sealed interface PortSpec {
    Protocol protocol();
  }

  /** Ports {@code first..last} inclusive; 0..65535 when the entry names no port. */
  public record PortRange(Protocol protocol, int first, int last) implements PortSpec {
    public boolean matches(Protocol p, int port) {
      return p == protocol && port >= first && port <= last;
    }

    @Override
    public String toString() {
      String ports = first == 0 && last == 65535 ? "all ports" : first == last ? "" + first
          : first + "-" + last;
      return protocol + "/" + ports;
    }
  }

  /** A containerPort name, resolved per pod. */
  public record NamedPort(Protocol protocol, String name) implements PortSpec {
    @Override
    public String toString() {
      return protocol + "/" + name;
    }
  }

  /** Direction constants, as the datapath numbers them (DIR_INGRESS / DIR_EGRESS). */
  public static final class Direction {
    public static final int INGRESS = PolicyKey.DIR_INGRESS;
    public static final int EGRESS = PolicyKey.DIR_EGRESS;

    private Direction() {}

    public static String name(int direction) {
      return direction == INGRESS ? "ingress" : "egress";
    }
  }
}
