package org.anetd.agent.policy;

import static org.anetd.agent.policy.Fixtures.ns;
import static org.anetd.agent.policy.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;
import org.junit.jupiter.api.Test;

/** What a restarted agent reads back of the identity numbering its predecessor wrote. */
class IdentityRecoveryTest {
  private static ClusterState state(Pod... pods) {
    return Fixtures.state(List.of(ns("x")), List.of(pods), List.of());
  }

  private static Map<Ipcache4Key, Ipcache4Value> ipcache(Object... ipAndId) {
    Map<Ipcache4Key, Ipcache4Value> m = new TreeMap<>(IpcacheCompiler.ORDER);
    for (int i = 0; i < ipAndId.length; i += 2) {
      m.put(Ipcache4Key.host(Ipv4.parse((String) ipAndId[i])),
          new Ipcache4Value((Long) ipAndId[i + 1], Ipv4.ANY, 0));
    }
    return m;
  }

  private static long idOf(IdentityAllocation a, ClusterState s, Pod p) {
    Identities ids = Identities.resolve(s, Policies.parse(s), a);
    return ids.of(p).orElseThrow();
  }

  @Test
  void aLabelSetKeepsTheIdMostOfItsAddressesHave() {
    // a-1 was a web pod relabelled app=api while no agent ran: its address still has web's 300;
    // it sorts before api-1, so "the first pod's id" would give api 300 and web a new id
    Pod web2 = pod("x", "web-2", "10.0.0.2", "app=web");
    Pod web3 = pod("x", "web-3", "10.0.0.3", "app=web");
    Pod relabelled = pod("x", "a-1", "10.0.0.1", "app=api");
    Pod api = pod("x", "api-1", "10.0.0.4", "app=api");
    ClusterState s = state(relabelled, web2, web3, api);

    IdentityAllocation a = IdentityRecovery.recover(s, ipcache("10.0.0.1", 300L,
        "10.0.0.2", 300L, "10.0.0.3", 300L, "10.0.0.4", 301L));

    assertThat(idOf(a, s, web2)).isEqualTo(300L);
    assertThat(idOf(a, s, api)).as("api: 301 from api-1; 300 is web's by two votes to one")
        .isEqualTo(301L);
  }

  @Test
  void idsOfLabelSetsThatAreGoneAreHeldBackForTheFirstPass() {
    Pod web = pod("x", "web-1", "10.0.0.1", "app=web");
    Pod newcomer = pod("x", "cron-1", "10.0.0.9", "app=cron");
    ClusterState s = state(web, newcomer);

    // 256 was a finished Job's; the ipcache still carries it for the Job's old address
    IdentityAllocation a = IdentityRecovery.recover(s, ipcache("10.0.0.1", 257L,
        "10.0.0.7", 256L));

    assertThat(idOf(a, s, web)).isEqualTo(257L);
    assertThat(idOf(a, s, newcomer)).as("not the id the ipcache still gives the Job's address")
        .isNotIn(256L, 257L);
  }
}
