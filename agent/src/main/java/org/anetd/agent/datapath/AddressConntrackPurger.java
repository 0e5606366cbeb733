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
 * sizeable fraction of a second. The first caller scans; callers arriving during its scan wait
 * for the next one, which takes all of their addresses together. Every caller returns only once
 * a scan that began after its call has finished, so its address is free of entries before it is
 * released.
 */
public final class AddressConntrackPurger {
  private final List<MapBackend> tables;
  private Set<Ipv4> pending = new HashSet<>();
  private CompletableFuture<Integer> pendingDone = new CompletableFuture<>();
  private boolean scanning;

  public AddressConntrackPurger(List<MapBackend> tables) {
    this.tables = List.copyOf(tables);
  }

  /**
   * Purges the entries of {@code address} (with those of other addresses asked for meanwhile);
   * returns how many the scan that covered it deleted. Rethrows the scan's failure.
   */
  public int purge(Ipv4 address) {
    CompletableFuture<Integer> done;
    boolean scanHere;
    synchronized (this) {
      pending.add(address);
      done = pendingDone;
      scanHere = !scanning;
      scanning = true;
    }
    if (scanHere) {
      scanWhilePending();
    }
    try {
      return done.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  private void scanWhilePending() {
    CompletableFuture<Integer> batchDone = null;
    try {
      while (true) {
        Set<Ipv4> batch;
        synchronized (this) {
          if (pending.isEmpty()) {
            scanning = false;
            return;
          }
          batch = pending;
          batchDone = pendingDone;
          pending = new HashSet<>();
          pendingDone = new CompletableFuture<>();
        }
        try {
          int purged = 0;
          for (MapBackend table : tables) {
            purged += ConntrackPurger.purgeAddresses(table, batch);
          }
          batchDone.complete(purged);
        } catch (RuntimeException e) {
          batchDone.completeExceptionally(e);
        }
      }
    } catch (Throwable t) {
      // an Error (out of memory): no caller may wait for ever, and the next one scans again
      if (batchDone != null) {
        batchDone.completeExceptionally(t);
      }
      synchronized (this) {
        pendingDone.completeExceptionally(t); // those who came meanwhile: their DEL is retried
        pending = new HashSet<>();
        pendingDone = new CompletableFuture<>();
        scanning = false;
      }
      throw t;
    }
  }
}
