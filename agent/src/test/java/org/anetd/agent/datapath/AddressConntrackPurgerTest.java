package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Pod addresses released together are purged from conntrack in one scan, each before release. */
class AddressConntrackPurgerTest {
  private final InMemoryMapBackend ct = new InMemoryMapBackend("ct4_tcp", 1024);

  private void policyEntry(String pod, int sport) {
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(Ipv4.parse("198.18.9.9"), Ipv4.parse(pod), 80,
        sport, Protocol.TCP, Ct4Key.F_POL_TX)), Ct4EntryCodec.INSTANCE.encode(new Ct4Entry(
            Long.MAX_VALUE, 1, 60, 0, new Ipv4(0), 0, 0, Ct4Entry.F_POLICY_ALLOWED, 0)));
  }

  private boolean hasEntryOf(String pod) {
    return ct.entries().stream().map(e -> Ct4KeyCodec.INSTANCE.decode(e.key()))
        .anyMatch(k -> k.saddr().equals(Ipv4.parse(pod)));
  }

  @Test
  void addressesAskedForDuringAScanArePurgedTogetherInTheNextOne() throws Exception {
    for (int i = 1; i <= 5; i++) {
      policyEntry("198.18.0." + i, 40000 + i);
    }
    AtomicInteger scans = new AtomicInteger();
    CountDownLatch firstScanStarted = new CountDownLatch(1);
    CountDownLatch releaseFirstScan = new CountDownLatch(1);
    ct.afterRead(() -> {
      if (scans.incrementAndGet() == 1) {
        firstScanStarted.countDown();
        await(releaseFirstScan);
      }
    });
    AddressConntrackPurger purger = new AddressConntrackPurger(List.of(ct));
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try {
      Future<?> first = pool.submit(() -> purger.purge(Ipv4.parse("198.18.0.1")));
      await(firstScanStarted);
      List<Future<?>> others = new ArrayList<>();
      for (int i = 2; i <= 5; i++) {
        Ipv4 address = Ipv4.parse("198.18.0." + i);
        others.add(pool.submit(() -> purger.purge(address)));
      }
      Thread.sleep(200); // the four are queued behind the running scan
      assertThat(others).noneMatch(Future::isDone);

      releaseFirstScan.countDown();
      first.get(10, TimeUnit.SECONDS);
      for (Future<?> f : others) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(scans).as("one scan for the first, one for the four that came meanwhile")
        .hasValue(2);
    for (int i = 1; i <= 5; i++) {
      assertThat(hasEntryOf("198.18.0." + i)).isFalse();
    }
  }

  @Test
  void aCallerReturnsOnceItsOwnBatchIsScannedNotAfterTheScansOfLaterCallers() throws Exception {
    policyEntry("198.18.0.1", 40001);
    policyEntry("198.18.0.2", 40002);
    AtomicInteger scans = new AtomicInteger();
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    CountDownLatch secondStarted = new CountDownLatch(1);
    CountDownLatch releaseSecond = new CountDownLatch(1);
    ct.afterRead(() -> {
      if (scans.incrementAndGet() == 1) {
        firstStarted.countDown();
        await(releaseFirst);
      } else {
        secondStarted.countDown();
        await(releaseSecond);
      }
    });
    AddressConntrackPurger purger = new AddressConntrackPurger(List.of(ct));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> first = pool.submit(() -> purger.purge(Ipv4.parse("198.18.0.1")));
      await(firstStarted);
      Future<?> later = pool.submit(() -> purger.purge(Ipv4.parse("198.18.0.2")));
      Thread.sleep(100); // queued behind the first scan

      releaseFirst.countDown();
      await(secondStarted);

      first.get(10, TimeUnit.SECONDS); // returns while the later caller's scan still runs
      assertThat(later).isNotDone();
      releaseSecond.countDown();
      later.get(10, TimeUnit.SECONDS);
    } finally {
      releaseFirst.countDown();
      releaseSecond.countDown();
      pool.shutdownNow();
    }
    assertThat(hasEntryOf("198.18.0.1")).isFalse();
    assertThat(hasEntryOf("198.18.0.2")).isFalse();
  }

  @Test
  void aFailedScanFailsTheCallersItCoveredAndTheNextCallScansAgain() {
    policyEntry("198.18.0.1", 40001);
    AtomicInteger reads = new AtomicInteger();
    ct.afterRead(() -> {
      if (reads.incrementAndGet() == 1) {
        throw new IllegalStateException("injected: read failed");
      }
    });
    AddressConntrackPurger purger = new AddressConntrackPurger(List.of(ct));

    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> purger.purge(Ipv4.parse("198.18.0.1"))).hasMessageContaining("injected");
    assertThat(purger.purge(Ipv4.parse("198.18.0.1"))).isEqualTo(1);
    assertThat(hasEntryOf("198.18.0.1")).isFalse();
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
