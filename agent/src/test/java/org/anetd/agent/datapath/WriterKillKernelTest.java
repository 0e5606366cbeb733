package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the writer in the middle of a large update leaves the pinned maps consistent (every
 * reachable slot names an existing backend, every frontend has its reverse NAT), and a restarted
 * writer converges to the desired state.
 */
@KernelTest
class WriterKillKernelTest {
  private static final int SERVICES = 5000;
  private static final int KILLS = 5;

  @Test
  void killedMidUpdateTheMapsStayConsistentAndARestartConverges(NetnsLab lab) throws Exception {
    Path pins = lab.bpffsDir("kill");
    Random random = new Random(7);
    for (int kill = 0; kill < KILLS; kill++) {
      Process worker = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
          .toString(), "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
          LbWriteWorker.class.getName(), pins.toString(), Integer.toString(SERVICES))
          .redirectErrorStream(true).start();
      lab.onClose(worker::destroyForcibly);
      BufferedReader out = new BufferedReader(new InputStreamReader(worker.getInputStream()));
      assertThat(out.readLine()).as("worker output").isEqualTo("ready");
      Thread.sleep(50 + random.nextInt(400)); // let it get into the middle of a rewrite
      worker.destroyForcibly(); // SIGKILL
      assertThat(worker.waitFor(10, TimeUnit.SECONDS)).isTrue();

      assertThat(violations(pins)).as("after kill %d", kill).isEmpty();
    }

    LbWriteWorker.Desired desired = LbWriteWorker.desired(SERVICES, 0);
    try (Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins)
        .withLbMapMax(SERVICES * 8))) {
      LoadBalancerWriter restarted = dp.loadBalancerWriter();
      restarted.write(desired.services(), desired.backends(), desired.revNat());
    }
    assertThat(read(pins, Datapath.LB4_SERVICES, Lb4KeyCodec.INSTANCE, Lb4ServiceCodec.INSTANCE))
        .isEqualTo(desired.services());
    assertThat(read(pins, Datapath.LB4_BACKENDS, U32Codec.INSTANCE, Lb4BackendCodec.INSTANCE))
        .isEqualTo(desired.backends());
  }

  private static <K, V> Map<K, V> read(Path pins, String map, Codec<K> k, Codec<V> v) {
    Map<K, V> out = new HashMap<>();
    try (org.anetd.agent.bpf.BpfMap m = org.anetd.agent.bpf.BpfMap.openPinned(pins.resolve(map))) {
      m.entries().forEach(e -> out.put(k.decode(e.key()), v.decode(e.value())));
    }
    return out;
  }

  private static List<String> violations(Path pins) {
    Map<Lb4Key, Lb4Service> services = read(pins, Datapath.LB4_SERVICES, Lb4KeyCodec.INSTANCE,
        Lb4ServiceCodec.INSTANCE);
    Map<Long, Lb4Backend> backends = read(pins, Datapath.LB4_BACKENDS, U32Codec.INSTANCE,
        Lb4BackendCodec.INSTANCE);
    Map<Integer, Lb4ReverseNat> revNat = read(pins, Datapath.LB4_REVERSE_NAT, U16Codec.INSTANCE,
        Lb4ReverseNatCodec.INSTANCE);
    List<String> problems = new ArrayList<>();
    services.forEach((key, master) -> {
      if (key.slot() != 0) {
        return;
      }
      if (!revNat.containsKey(master.revNatId())) {
        problems.add(key + " has no reverse NAT");
      }
      for (int s = 1; s <= master.count(); s++) {
        Lb4Service slot = services.get(key.withSlot(s));
        if (slot == null || !backends.containsKey(slot.backendId())) {
          problems.add(key + " slot " + s + " is missing or names a missing backend");
        }
      }
    });
    return problems;
  }
}
