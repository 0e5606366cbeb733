package org.anetd.agent.datapath;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Purges the conntrack entries of pod addresses that are being released ({@link
 * ConntrackPurger#purgeAddresses}), one table scan for all the addresses asked for meanwhile:
 * while a node is drained, many CNI DELs arrive at once, and a scan of a full table takes a
 * sizeable fraction of a second. One scan runs at a time; an address asked for during a scan
 * joins the next batch, which one of its callers scans once the running scan ends. Every caller
 * returns once the scan of its own batch has finished, so its address is free of entries before
 * it is released, and scans at most that batch itself (a DEL never runs the scans of the DELs
 * that keep coming after it).
 */
public final class AddressConntrackPurger {
  private final List<MapBackend> tables;
  private Set<Ipv4> pending = new HashSet<>();
  private CompletableFuture<Integer> pendingDone = new CompletableFuture<>();
  /** The scan running now, completed when it ends; null when none runs. */
  private CompletableFuture<Void> running;

  public AddressConntrackPurger(List<MapBackend> tables) {
    this.tables = List.copyOf(tables);
  }

  /**
   * Purges the entries of {@code address} (with those of other addresses asked for meanwhile);
   * returns how many the scan that covered it deleted. Rethrows the scan's failure.
   */
  public int purge(Ipv4 address) {
    CompletableFuture<Integer> done;
    synchronized (this) {
      pending.add(address);
      done = pendingDone;
    }
    while (!done.isDone()) {
      Set<Ipv4> batch;
      CompletableFuture<Integer> batchDone;
      CompletableFuture<Void> scan;
      synchronized (this) {
        if (done.isDone()) {
          break;
        }
        if (running != null) {
          scan = running; // wait for it outside the lock, then try again
          batch = null;
          batchDone = null;
        } else {
          // done is not complete, so this caller's address is still pending: scan its batch
          batch = pending;
          batchDone = pendingDone;
          pending = new HashSet<>();
          pendingDone = new CompletableFuture<>();
          running = new CompletableFuture<>();
          scan = null;
        }
      }
      if (scan != null) {
        scan.join();
        continue;
      }
      scan(batch, batchDone);
    }
    try {
      return done.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  private void scan(Set<Ipv4> batch, CompletableFuture<Integer> batchDone) {
    try {
      int purged = 0;
      for (MapBackend table : tables) {
        purged += ConntrackPurger.purgeAddresses(table, batch);
      }
      batchDone.complete(purged);
    } catch (Throwable t) {
      batchDone.completeExceptionally(t); // an Error too: no caller of the batch waits for ever
      throw t;
    } finally {
      CompletableFuture<Void> ended;
      synchronized (this) {
        ended = running;
        running = null;
      }
      ended.complete(null);
    }
  }
}
