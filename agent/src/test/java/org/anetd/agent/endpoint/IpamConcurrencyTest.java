package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.datapath.Ipv4;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No address is handed out twice, by threads or by processes killed with SIGKILL at random. */
class IpamConcurrencyTest {
  private static final PodCidr CIDR = PodCidr.parse("10.8.0.0/22");

  /**
   * On tmpfs where there is one: SIGKILL keeps the page cache, so these tests do not need the
   * disk's fsync latency (20 ms a write on the CI VM), which would make 1,000 cycles take minutes.
   */
  @TempDir(factory = TmpfsWhereAvailable.class)
  Path dir;

  @Test
  void concurrentAddsFromManyThreadsAndTwoStoresNeverShareAnAddress() throws Exception {
    // Two store instances on one directory stand in for two agents (or an agent and a CLI).
    IpamStore one = new IpamStore(dir, CIDR, Clock.systemUTC());
    IpamStore two = new IpamStore(dir, CIDR, Clock.systemUTC());
    int threads = 16;
    int perThread = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    Map<AttachmentKey, Ipv4> handedOut = new ConcurrentHashMap<>();
    List<Future<?>> done = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        IpamStore store = t % 2 == 0 ? one : two;
        int thread = t;
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            AttachmentKey key = new AttachmentKey("t" + thread + "-" + i, "eth0");
            handedOut.put(key, store.allocate(key, PodRef.UNKNOWN).address());
            if (i % 5 == 4) { // some churn: freed addresses get handed out again
              store.release(key);
              handedOut.remove(key);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    List<Allocation> stored = new IpamStore(dir, CIDR, Clock.systemUTC()).allocations();
    assertThat(stored).hasSize(threads * perThread * 4 / 5);
    assertThat(stored.stream().map(Allocation::address).distinct()).hasSize(stored.size());
    assertThat(new HashSet<>(handedOut.values())).hasSize(handedOut.size());
    stored.forEach(a -> assertThat(handedOut.get(a.key())).isEqualTo(a.address()));
  }

  /**
   * Child JVMs run ADD/DEL cycles on one store, two at a time, and are killed with SIGKILL after
   * a random number of ADDs (so at a random step: mid-write, between fsync and rename, after the
   * write but before reporting it). Then, like a restarted agent: the store is reloaded, DELs that
   * were in flight are retried (the runtime does that), and GC runs against the live pods.
   */
  @Test
  void killedAllocatorProcessesLeaveNoLeaksAndNoDuplicatesAfterGc() throws Exception {
    int targetCycles = 1000;
    Random random = new Random(7);
    Map<String, Ipv4> live = new HashMap<>();
    Set<String> deleteInFlight = new HashSet<>();
    int cycles = 0;
    int kills = 0;
    long startNanos = System.nanoTime();
    ExecutorService readers = Executors.newFixedThreadPool(2);
    ScheduledExecutorService killer = Executors.newScheduledThreadPool(1);
    try {
      for (int round = 0; cycles < targetCycles; round++) {
        List<Future<List<String>>> children = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
          String prefix = "r" + round + "c" + c;
          int addsBeforeKill = 20 + random.nextInt(50);
          long killAfterMicros = random.nextInt(20_000);
          long seed = random.nextLong();
          children.add(readers.submit(
              () -> runAndKill(prefix, killer, addsBeforeKill, killAfterMicros, seed)));
        }
        List<String[]> events = new ArrayList<>();
        for (Future<List<String>> child : children) {
          child.get(60, TimeUnit.SECONDS).forEach(line -> events.add(line.split(" ")));
          kills++;
        }
        // Both children's steps in the order they happened.
        events.sort(Comparator.comparingLong(w -> Long.parseLong(w[0])));
        for (String[] w : events) {
          switch (w[1]) {
            case "ADDED" -> {
              cycles++;
              Ipv4 address = Ipv4.parse(w[3]);
              assertThat(live.values()).as("address %s handed out twice", address)
                  .doesNotContain(address);
              live.put(w[2], address);
            }
            case "DELETING" -> {
              live.remove(w[2]);
              deleteInFlight.add(w[2]);
            }
            case "DELETED" -> deleteInFlight.remove(w[2]);
            default -> throw new AssertionError("unexpected child output: " + String.join(" ", w));
          }
        }
      }
    } finally {
      readers.shutdownNow();
      killer.shutdownNow();
    }

    // The agent restarts: reload, the runtime retries DELs it never saw succeed, GC runs.
    IpamStore restarted = new IpamStore(dir.resolve("ipam"), CIDR, Clock.systemUTC());
    for (String id : deleteInFlight) {
      restarted.release(new AttachmentKey(id, "eth0"));
    }
    List<Allocation> beforeGc = restarted.allocations();
    List<LivePod> livePods = live.keySet().stream()
        .map(id -> LivePod.ofRuntime("churn", id, id)).toList();
    List<Allocation> freed = restarted.collectGarbage(livePods, Duration.ZERO, java.util.Set.of());
    List<Allocation> after = restarted.allocations();

    System.out.printf("IPAM kill test: %d ADD cycles, %d SIGKILLs, %d live, %d DELs retried,"
            + " %d leaked allocations freed by GC, %d left after GC, %.1f s%n", cycles, kills,
        live.size(), deleteInFlight.size(), freed.size(), after.size(),
        (System.nanoTime() - startNanos) / 1e9);
    assertThat(cycles).isGreaterThanOrEqualTo(targetCycles);
    assertThat(beforeGc.stream().map(Allocation::address).distinct()).hasSize(beforeGc.size());
    Map<String, Ipv4> afterByContainer = new HashMap<>();
    after.forEach(a -> afterByContainer.put(a.key().containerId(), a.address()));
    assertThat(afterByContainer).as("exactly the live pods keep their reported addresses")
        .isEqualTo(live);
  }

  /**
   * Runs a child and kills it with SIGKILL {@code killAfterMicros} after its
   * {@code addsBeforeKill}th ADD. The count bounds how many JVMs start (their start dominates the
   * test's time); the delay, a few cycles long, makes the kill land at any step (mid-write,
   * between fsync and rename, after a write but before the child reported it).
   */
  private List<String> runAndKill(String prefix, ScheduledExecutorService killer,
      int addsBeforeKill, long killAfterMicros, long seed)
      throws IOException, InterruptedException {
    Path stderr = dir.resolve(prefix + ".stderr");
    Process p = new ProcessBuilder(javaBinary(), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), IpamChurnMain.class.getName(),
        dir.toString(), CIDR.toString(), prefix, "10", Long.toString(seed))
        .redirectError(stderr.toFile()).start();
    List<String> lines = new ArrayList<>();
    boolean killScheduled = false;
    int adds = 0;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        if (line.contains(" ADDED ") && ++adds >= addsBeforeKill && !killScheduled) {
          // SIGKILL through the handle: Process.destroyForcibly would also close our end of the
          // pipe, and the lines the child wrote before dying must still be read.
          killer.schedule(() -> p.toHandle().destroyForcibly(), killAfterMicros,
              TimeUnit.MICROSECONDS);
          killScheduled = true;
        }
      }
    } finally {
      p.toHandle().destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    if (p.exitValue() != 137) {
      throw new AssertionError("child " + prefix + " ended by itself (exit " + p.exitValue()
          + "): " + Files.readString(stderr));
    }
    return lines;
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
