package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/** The writer against real pinned maps: what it writes is there, and a restart adopts it. */
@KernelTest
class LoadBalancerWriterKernelTest {
  private static final Ipv4 VIP = Ipv4.parse("198.19.0.10");

  private static Datapath load(NetnsLab lab, java.nio.file.Path pins) {
    Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins).withLbMapMax(4096));
    lab.onClose(dp::close);
    return dp;
  }

  private static Map<Lb4Key, Lb4Service> frontend(int... backendIds) {
    Map<Lb4Key, Lb4Service> m = new HashMap<>();
    Lb4Key master = new Lb4Key(VIP, 80, Protocol.TCP, 0, 0);
    m.put(master, Lb4Service.master(backendIds.length, 1, 0, 0));
    for (int i = 0; i < backendIds.length; i++) {
      m.put(master.withSlot(i + 1), Lb4Service.slot(backendIds[i], 1, 0));
    }
    return m;
  }

  private static Map<Long, Lb4Backend> backends(int... ids) {
    Map<Long, Lb4Backend> m = new HashMap<>();
    for (int id : ids) {
      m.put((long) id, new Lb4Backend(new Ipv4(0xC6120000 | id), 8080, Protocol.TCP, 0));
    }
    return m;
  }

  @Test
  void writtenEntriesAreInTheKernelMaps(NetnsLab lab) {
    Datapath dp = load(lab, lab.bpffsDir("lbw"));

    dp.loadBalancerWriter().write(frontend(1, 2), backends(1, 2),
        Map.of(1, new Lb4ReverseNat(VIP, 80)));

    byte[] slot2 = dp.map(Datapath.LB4_SERVICES)
        .lookup(Lb4KeyCodec.INSTANCE.encode(new Lb4Key(VIP, 80, Protocol.TCP, 0, 2)))
        .orElseThrow();
    assertThat(Lb4ServiceCodec.INSTANCE.decode(slot2).backendId()).isEqualTo(2);
    assertThat(dp.map(Datapath.LB4_BACKENDS).keys()).hasSize(2);
  }

  @Test
  void aRestartedAgentRewritesNothingAndRemovesOnlyStaleEntries(NetnsLab lab) {
    java.nio.file.Path pins = lab.bpffsDir("restart");
    Datapath first = load(lab, pins);
    first.loadBalancerWriter().write(frontend(1, 2), backends(1, 2),
        Map.of(1, new Lb4ReverseNat(VIP, 80)));
    first.close();

    Datapath second = load(lab, pins);
    LoadBalancerWriter.Result r = second.loadBalancerWriter().write(frontend(1), backends(1),
        Map.of(1, new Lb4ReverseNat(VIP, 80)));

    assertThat(r.writes().created()).isZero();
    assertThat(r.writes().updated()).isEqualTo(1); // the master's count 2 -> 1
    assertThat(r.writes().deleted()).isEqualTo(2); // slot 2 and backend 2
    assertThat(r.removedBackends()).containsOnlyKeys(2L);
    assertThat(second.map(Datapath.LB4_BACKENDS).keys()).hasSize(1);
  }
}
