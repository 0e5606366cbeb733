package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Policy updates never deny, at any intermediate state, a flow that both the old and the new
 * policy allow.
 */
class PolicyWriterTest {
  private static final Ipv4 PEER = Ipv4.parse("198.18.0.9");
  private static final long EP = 5;

  private InMemoryMapBackend policyMap;
  private InMemoryMapBackend endpointsMap;
  private InMemoryMapBackend ipcacheMap;
  private final List<String> violations = new ArrayList<>();

  @BeforeEach
  void maps() {
    policyMap = new InMemoryMapBackend("policy", 1024).afterEachOperation(this::check);
    endpointsMap = new InMemoryMapBackend("endpoints", 1024).afterEachOperation(this::check);
    ipcacheMap = new InMemoryMapBackend("ipcache", 1024).afterEachOperation(this::check);
  }

  /** The flow PEER -> endpoint EP on 80/TCP must pass ingress at every step. */
  private void check(String operation) {
    Map<Long, EndpointPolicy> eps = decode(endpointsMap, U32Codec.INSTANCE,
        EndpointPolicyCodec.INSTANCE);
    EndpointPolicy ep = eps.get(EP);
    if (ep == null || (ep.flags() & EndpointPolicy.F_INGRESS_ISOLATED) == 0) {
      return;
    }
    Ipcache4Value peer = decode(ipcacheMap, Ipcache4KeyCodec.INSTANCE, Ipcache4ValueCodec.INSTANCE)
        .get(Ipcache4Key.host(PEER));
    long identity = peer == null ? Ipcache4Value.IDENTITY_WORLD : peer.identity();
    Map<PolicyKey, PolicyEntry> entries = decode(policyMap, PolicyKeyCodec.INSTANCE,
        PolicyEntryCodec.INSTANCE);
    boolean allowed = entries.containsKey(
        PolicyKey.portPrefix(EP, identity, MetricsKey.DIR_INGRESS, Protocol.TCP, 80, 16));
    if (!allowed) {
      violations.add("after " + operation + ": identity " + identity + " denied");
    }
  }

  private static <K, V> Map<K, V> decode(InMemoryMapBackend m, Codec<K> k, Codec<V> v) {
    Map<K, V> out = new HashMap<>();
    m.entries().forEach(e -> out.put(k.decode(e.key()), v.decode(e.value())));
    return out;
  }

  private static Map<PolicyKey, PolicyEntry> allow(long identity) {
    return Map.of(PolicyKey.portPrefix(EP, identity, MetricsKey.DIR_INGRESS, Protocol.TCP, 80, 16),
        new PolicyEntry(1, PolicyEntry.VERDICT_ALLOW, false));
  }

  private static Map<Long, EndpointPolicy> isolated() {
    return Map.of(EP, new EndpointPolicy(300, EndpointPolicy.F_INGRESS_ISOLATED));
  }

  private static Map<Ipcache4Key, Ipcache4Value> peerIs(long identity) {
    return Map.of(Ipcache4Key.host(PEER), new Ipcache4Value(identity, Ipv4.ANY, 0));
  }

  @Test
  void isolatingAnEndpointWritesItsAllowsFirst() {
    new PolicyWriter(policyMap, endpointsMap, ipcacheMap).write(allow(400), isolated(), peerIs(400));

    assertThat(violations).isEmpty();
    assertThat(policyMap.size()).isEqualTo(1);
  }

  @Test
  void aPeerChangingIdentityStaysAllowedWhenBothIdentitiesAre() {
    PolicyWriter w = new PolicyWriter(policyMap, endpointsMap, ipcacheMap);
    w.write(allow(400), isolated(), peerIs(400));

    w.write(allow(401), isolated(), peerIs(401));

    assertThat(violations).isEmpty();
    assertThat(w.policy()).containsOnlyKeys(allow(401).keySet());
  }

  @Test
  void unchangedPolicyWritesNothing() {
    PolicyWriter w = new PolicyWriter(policyMap, endpointsMap, ipcacheMap);
    w.write(allow(400), isolated(), peerIs(400));

    WriteResult again = w.write(allow(400), isolated(), peerIs(400));

    assertThat(again.changes()).isZero();
  }
}
