package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LbTableTest {
  private static final Ipv4 VIP = Ipv4.parse("198.19.0.10");

  @Test
  void listsEachFrontendWithItsBackendsAndTheirState() {
    Lb4Key master = new Lb4Key(VIP, 80, Protocol.TCP, 0, 0);
    String table = LbTable.render(
        Map.of(master, Lb4Service.master(2, 7, Lb4Service.F_AFFINITY, 10800),
            master.withSlot(1), Lb4Service.slot(1, 7, 0),
            master.withSlot(2), Lb4Service.slot(2, 7, 0)),
        Map.of(1L, new Lb4Backend(Ipv4.parse("198.18.0.2"), 8080, Protocol.TCP, 0),
            2L, new Lb4Backend(Ipv4.parse("198.18.0.3"), 8080, Protocol.TCP, 1)));

    assertThat(table).contains("198.19.0.10:80/TCP")
        .contains("[ClusterIP, sessionAffinity=10800s]")
        .contains("198.18.0.2:8080/TCP (active)")
        .contains("198.18.0.3:8080/TCP (terminating)");
    assertThat(table.lines()).hasSize(4);
  }

  @Test
  void frontendWithoutBackendsSaysItRejects() {
    String table = LbTable.render(Map.of(new Lb4Key(VIP, 53, Protocol.UDP, 0, 0),
        Lb4Service.master(0, 1, Lb4Service.F_NO_BACKENDS, 0)), Map.of());

    assertThat(table).contains("198.19.0.10:53/UDP").contains("no-backends(reject)");
  }
}
