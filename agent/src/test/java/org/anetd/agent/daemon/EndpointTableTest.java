package org.anetd.agent.daemon;

import static org.anetd.agent.daemon.ClusterFixtures.clusterIp;
import static org.anetd.agent.daemon.ClusterFixtures.denyIngress;
import static org.anetd.agent.daemon.ClusterFixtures.pod;
import static org.anetd.agent.daemon.ClusterFixtures.slice;
import static org.anetd.agent.daemon.ClusterFixtures.state;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.InMemoryMapBackend;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lxc4Info;
import org.anetd.agent.datapath.LoadBalancerWriter;
import org.anetd.agent.datapath.PolicyWriter;
import org.anetd.agent.policy.IdentityAllocation;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.junit.jupiter.api.Test;

class EndpointTableTest {
  private static Reconciler.Report report() {
    Reconciler r = new Reconciler(new LoadBalancerWriter(new InMemoryMapBackend("s", 1024),
        new InMemoryMapBackend("b", 1024), new InMemoryMapBackend("r", 1024)),
        new PolicyWriter(new InMemoryMapBackend("p", 1024), new InMemoryMapBackend("e", 1024),
            new InMemoryMapBackend("i", 1024)), List.of(), ServiceCompilerConfig.defaults(),
        IdentityAllocation.EMPTY, Clock.systemUTC());
    return r.reconcile(state(1, List.of(clusterIp("default", "web", "198.19.0.10", 80, 8080)),
        List.of(slice("default", "web", 8080, "198.18.0.11")),
        List.of(pod("default", "web-1", "198.18.0.11", Map.of("app", "web")),
            pod("default", "db-1", "198.18.0.12", Map.of("app", "db"))),
        List.of(denyIngress("default", "web"))), Map.of("default/web-1", 11, "default/db-1", 12));
  }

  @Test
  void endpointListShowsEachPodWithItsAddressIdentityAndEnforcement() {
    Reconciler.Report r = report();

    // web-1 is attached for local delivery (host veth ifindex 7), db-1 not (yet)
    String table = EndpointTable.endpoints(r.desiredPolicy(), r.ipcache(), Map.of(
        Ipv4.parse("198.18.0.11"), new Lxc4Info(7, 11, "02:00:00:00:00:0b", "02:00:00:00:01:0b")));

    assertThat(table.lines()).hasSize(3);
    assertThat(table).containsPattern("11\\s+default \\{app=web\\}\\s+198\\.18\\.0\\.11\\s+\\d+\\s+enforced\\s+allow-all\\s+\\d+\\s+local if7")
        .containsPattern("12\\s+default \\{app=db\\}\\s+198\\.18\\.0\\.12\\s+\\d+\\s+allow-all\\s+allow-all\\s+\\d+\\s+stack");
  }

  @Test
  void policyGetShowsTheNodeAllowOfAnIsolatedEndpointAndNothingForAnOpenOne() {
    String policy = EndpointTable.policy(report().desiredPolicy());

    assertThat(policy).contains("endpoint 11").contains("ingress").contains("all ports")
        .contains("(node)");
    assertThat(policy).contains("endpoint 12").contains("not isolated, all allowed");
  }
}
