package org.anetd.agent.datapath;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A child process for {@link WriterKillKernelTest}: adopts the pinned maps and rewrites them
 * between two large desired states forever, so a SIGKILL lands in the middle of some update.
 * Prints "ready" once the first state is written.
 *
 * <p>Usage: LbWriteWorker PIN_ROOT SERVICES
 */
public final class LbWriteWorker {
  private LbWriteWorker() {}

  /** Desired lb entries: {@code services} frontends with 3 backends each, shifted by {@code variant}. */
  public static Desired desired(int services, int variant) {
    Map<Lb4Key, Lb4Service> s = new HashMap<>();
    Map<Long, Lb4Backend> b = new HashMap<>();
    Map<Integer, Lb4ReverseNat> r = new HashMap<>();
    for (int i = 0; i < services; i++) {
      Ipv4 vip = new Ipv4(0xC6130000 + i + 1);
      int revNat = i + 1;
      Lb4Key master = new Lb4Key(vip, 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
      int count = 2 + (i + variant) % 2; // variants differ in slot counts and backends
      s.put(master, Lb4Service.master(count, revNat, 0, 0));
      for (int slot = 1; slot <= count; slot++) {
        long id = (long) i * 4 + slot + variant * 2L;
        s.put(master.withSlot(slot), Lb4Service.slot(id, revNat, 0));
        b.put(id, new Lb4Backend(new Ipv4(0x0A000000 + (int) id), 8080, Protocol.TCP, 0));
      }
      r.put(revNat, new Lb4ReverseNat(vip, 80));
    }
    return new Desired(s, b, r);
  }

  public record Desired(Map<Lb4Key, Lb4Service> services, Map<Long, Lb4Backend> backends,
      Map<Integer, Lb4ReverseNat> revNat) {}

  public static void main(String[] args) {
    Path pins = Path.of(args[0]);
    int services = Integer.parseInt(args[1]);
    Desired a = desired(services, 0);
    Desired b = desired(services, 1);
    try (Datapath dp = Datapath.load(DatapathSettings.defaults().withPinRoot(pins)
        .withLbMapMax(services * 8))) {
      LoadBalancerWriter writer = dp.loadBalancerWriter();
      writer.write(a.services(), a.backends(), a.revNat());
      System.out.println("ready");
      System.out.flush();
      for (int round = 0; ; round++) {
        Desired next = round % 2 == 0 ? b : a;
        writer.write(next.services(), next.backends(), next.revNat());
      }
    }
  }
}
