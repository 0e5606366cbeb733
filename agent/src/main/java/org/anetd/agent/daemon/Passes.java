package org.anetd.agent.daemon;

import java.util.concurrent.TimeUnit;

/**
 * Counts reconcile passes so that a caller can wait for a pass that began after its request (and
 * therefore saw what the caller wrote before asking). Pass numbers grow by one per pass.
 */
final class Passes {
  private long begun;
  private long lastSucceeded;
  private String lastFailure;
  private boolean closed;

  /** The number of the newest pass begun so far: every later pass begins after this call. */
  synchronized long ticket() {
    return begun;
  }

  synchronized long begin() {
    return ++begun;
  }

  synchronized void succeeded(long pass) {
    lastSucceeded = Math.max(lastSucceeded, pass);
    lastFailure = null;
    notifyAll();
  }

  synchronized void failed(String why) {
    lastFailure = why;
    notifyAll();
  }

  synchronized String lastFailure() {
    return lastFailure;
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }

  /**
   * Waits until a pass numbered above {@code ticket} succeeded; false when {@code deadlineNanos}
   * (System.nanoTime) passes first or the agent stops.
   */
  synchronized boolean awaitSucceededAfter(long ticket, long deadlineNanos)
      throws InterruptedException {
    while (lastSucceeded <= ticket) {
      long left = deadlineNanos - System.nanoTime();
      if (closed || left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
