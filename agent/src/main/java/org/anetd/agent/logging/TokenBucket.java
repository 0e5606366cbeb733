package org.anetd.agent.logging;

import java.util.function.LongSupplier;

/**
 * A token bucket on a monotonic nanosecond ticker: {@code ratePerSecond} tokens a second, at most
 * {@code burst} saved up, starting full. Over any interval of t seconds it grants at most {@code
 * burst + ratePerSecond * t}. Not thread-safe: the logger's single thread owns it.
 */
final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanos;
  private double tokens;
  private long lastRefill;

  TokenBucket(int ratePerSecond, int burst, LongSupplier nanos) {
    if (ratePerSecond < 1 || burst < 1) {
      throw new IllegalArgumentException(
          "rate and burst must be positive, got " + ratePerSecond + "/s burst " + burst);
    }
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.nanos = nanos;
    this.tokens = burst;
    this.lastRefill = nanos.getAsLong();
  }

  boolean tryAcquire() {
    long now = nanos.getAsLong();
    if (now > lastRefill) {
      tokens = Math.min(burst, tokens + (now - lastRefill) * ratePerNano);
      lastRefill = now;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
