package org.anetd.agent.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What {@code anetd bpf selftest} checks, in order: root and bpffs, loading the shipped objects
 * with their maps pinned in a scratch directory, a BPF_PROG_TEST_RUN, a map read back, a ring
 * buffer event; then it removes the scratch directory, also on failure.
 */
public final class SelfTest {
  /** OK, or the step that failed and why (never a stack trace for the user). */
  public record Result(boolean ok, String failedStep, String message) {}

  private static final int TC_ACT_SHOT = 2;

  private SelfTest() {}

  public static Result run(Path bpffs, Consumer<String> progress) {
    String step = "check root and bpffs at " + bpffs;
    Path scratch = bpffs.resolve("anetd-selftest-" + ProcessHandle.current().pid());
    try {
      Bpf.requireUsable(bpffs);
      progress.accept(step);

      step = "create pin directory " + scratch;
      Files.createDirectories(scratch);
      progress.accept(step);

      step = "load bpf_lxc.o with maps pinned";
      try (BpfObject lxc = BpfObject.openResource("bpf_lxc.o")) {
        lxc.pinMapsUnder(scratch).load();
        lxc.program("from_container");
        lxc.program("to_container");
      }
      progress.accept(step);

      step = "load tests/bridge_test.o with a tunable set";
      try (BpfObject test = BpfObject.openResource("tests/bridge_test.o")) {
        test.setRodataU32("verdict", TC_ACT_SHOT).pinMapsUnder(scratch).load();
        progress.accept(step);

        step = "BPF_PROG_TEST_RUN of count_and_emit";
        AtomicInteger events = new AtomicInteger();
        try (RingBuffer rb = RingBuffer.open(test.map("anetd_events"),
            r -> events.incrementAndGet())) {
          BpfProgram.TestRun run = test.program("count_and_emit").testRun(probePacket(), 3);
          if (run.retval() != TC_ACT_SHOT) {
            return new Result(false, step, "program returned " + run.retval() + ", expected "
                + TC_ACT_SHOT + " (the tunable did not reach the program)");
          }
          progress.accept(step);

          step = "read the run counter back from the pinned map";
          try (BpfMap runs = BpfMap.openPinned(scratch.resolve("runs"))) {
            byte[] zero = new byte[4];
            long n = ByteBuffer.wrap(runs.lookup(zero).orElseThrow())
                .order(ByteOrder.nativeOrder()).getLong();
            if (n != 3) {
              return new Result(false, step, "counter is " + n + ", expected 3");
            }
          }
          progress.accept(step);

          step = "receive ring buffer events";
          rb.poll(1000);
          if (events.get() != 3) {
            return new Result(false, step, events.get() + " events, expected 3");
          }
          progress.accept(step);
        }
      }
      step = "remove pin directory " + scratch;
      deleteTree(scratch);
      progress.accept(step);
      return new Result(true, null, null);
    } catch (BpfException | IOException | IllegalStateException e) {
      deleteTree(scratch);
      return new Result(false, step, e.getMessage());
    }
  }

  /** A minimal Ethernet + IPv4 + UDP frame. */
  private static byte[] probePacket() {
    ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8);
    b.put(new byte[12]).putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0).putShort((short) 28).putInt(0).put((byte) 64)
        .put((byte) 17).putShort((short) 0).putInt(0xC6120001).putInt(0xC6120002);
    b.putShort((short) 1).putShort((short) 2).putShort((short) 8).putShort((short) 0);
    return b.array();
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: the message of the failing step matters more
    }
  }
}
