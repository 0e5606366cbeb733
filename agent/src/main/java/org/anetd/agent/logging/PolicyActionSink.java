package org.anetd.agent.logging;

/** Where {@link PolicyActionLogger} hands records; {@link RotatingLogWriter} in the agent. */
@FunctionalInterface
public interface PolicyActionSink {
  /**
   * Takes a record without blocking. Returns false when it cannot (its queue is full); the
   * caller then counts the record as dropped ({@code queue_full}).
   */
  boolean offer(PolicyActionRecord record);
}
