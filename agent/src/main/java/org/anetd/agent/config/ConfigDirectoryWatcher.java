package org.anetd.agent.config;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a mounted cilium-config directory when its content changes and feeds the result to a
 * {@link ConfigHolder}.
 *
 * <p>It polls and compares content instead of using a WatchService: the kubelet's update is a
 * symlink swap ({@code ..data}) that inotify reports as events on symlinks rather than on the key
 * files, and it arrives only after the kubelet's sync period (about a minute) anyway. Reading a
 * few dozen small files every few seconds is cheap, and comparing content means an unchanged
 * ConfigMap never triggers a reload.
 */
public final class ConfigDirectoryWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigDirectoryWatcher.class);

  private final ConfigSource source;
  private final ConfigHolder holder;
  private final Duration pollInterval;
  private final ScheduledExecutorService executor;
  private Map<String, String> lastSeen;
  private String lastReadFailure;

  public ConfigDirectoryWatcher(ConfigSource source, ConfigHolder holder, Duration pollInterval) {
    this.source = Objects.requireNonNull(source, "source");
    this.holder = Objects.requireNonNull(holder, "holder");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive: " + pollInterval);
    }
    this.pollInterval = pollInterval;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "anetd-config-watcher");
      t.setDaemon(true);
      return t;
    });
  }

  /** Loads once now, then every {@code pollInterval} on a background thread. */
  public void start() {
    executor.scheduleWithFixedDelay(this::pollQuietly, 0, pollInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the source and, when its content differs from the last read, parses it and applies
   * the result. Returns whether a reload happened.
   */
  synchronized boolean pollOnce() {
    Map<String, String> data;
    try {
      data = source.load();
      lastReadFailure = null;
    } catch (IOException e) {
      // Cannot read: keep what is in force. Log once per distinct failure, not every poll.
      String failure = e.toString();
      if (!failure.equals(lastReadFailure)) {
        LOG.warn("cannot read config from {}, keeping the config in force: {}",
            source.origin(), failure);
        lastReadFailure = failure;
      }
      return false;
    }
    if (data.equals(lastSeen)) {
      return false;
    }
    lastSeen = data;
    holder.apply(ConfigParser.parse(data, source.origin()));
    return true;
  }

  private void pollQuietly() {
    try {
      pollOnce();
    } catch (RuntimeException e) {
      // An exception would cancel the schedule; log and keep watching.
      LOG.error("config reload from {} failed", source.origin(), e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
