package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.function.Predicate;
import org.anetd.agent.datapath.Protocol;

/**
 * The real-traffic truth tables of {@link NetworkPolicyTrafficKernelTest}, for suites outside this
 * package: the same policies and intents run through `anetd lab` (NetworkPolicyLabIT).
 */
public final class NetpolTables {
  private NetpolTables() {}

  /** One connection: from ns/pod to ns/pod on "tcp" or "udp" and a port. */
  public record Probe(String fromNs, String fromPod, String toNs, String toPod, String proto,
      int port) {}

  /** A table: its policies and which connections they allow (a pod to itself always passes). */
  public record Table(String name, List<NetworkPolicy> policies, Predicate<Probe> allowed,
      boolean usesIpBlocks) {
    @Override
    public String toString() {
      return name;
    }
  }

  @SuppressWarnings("unchecked")
  public static List<Table> tables() {
    return NetworkPolicyTrafficKernelTest.cases().map(a -> {
      Object[] args = a.get();
      List<NetworkPolicy> policies = (List<NetworkPolicy>) args[1];
      Predicate<TruthTableTest.Conn> intent = (Predicate<TruthTableTest.Conn>) args[2];
      boolean ipBlocks = policies.stream()
          .anyMatch(p -> Serialization.asJson(p).contains("ipBlock"));
      return new Table((String) args[0], policies, probe -> intent.test(new TruthTableTest.Conn(
          probe.fromNs(), probe.fromPod(), probe.toNs(), probe.toPod(),
          Protocol.valueOf(probe.proto().toUpperCase()), probe.port())), ipBlocks);
    }).toList();
  }
}
