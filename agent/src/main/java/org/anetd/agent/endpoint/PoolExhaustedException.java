package org.anetd.agent.endpoint;

/** No free pod address; the message names the pool, its size and how many are in use. */
public final class PoolExhaustedException extends RuntimeException {
  public PoolExhaustedException(String message) {
    super(message);
  }
}
