package org.anetd.agent.config;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 *
 * <p>With a {@link LastAcceptedConfig}, every accepted version is saved there, and {@link
 * #loadAtStart} falls back to the saved copy when the current version is rejected or unreadable.
 */
public final class ConfigDirectoryWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigDirectoryWatcher.class);

  private final ConfigSource source;
  private final ConfigHolder holder;
  private final Duration pollInterval;
  private final ScheduledExecutorService executor;
  /** Null: accepted versions are not saved. */
  private final LastAcceptedConfig lastAccepted;
  private Map<String, String> lastSeen;
  private String lastReadFailure;
  private String lastSaveFailure;

  /** Without a saved copy: at start, a rejected or unreadable version leaves the defaults. */
  public ConfigDirectoryWatcher(ConfigSource source, ConfigHolder holder, Duration pollInterval) {
    this(source, holder, pollInterval, null);
  }

  /** Saves every accepted version in {@code lastAccepted}, read back by {@link #loadAtStart}. */
  public ConfigDirectoryWatcher(ConfigSource source, ConfigHolder holder, Duration pollInterval,
      LastAcceptedConfig lastAccepted) {
    this.lastAccepted = lastAccepted;
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

  /**
   * The first load, on the calling thread, before {@link #start}. When the current version is
   * rejected or cannot be read, the saved copy of the last accepted version (if any, and if it is
   * still accepted) is put in force instead of the defaults, and the holder says so ({@link
   * ConfigHolder#lastAcceptedInForce}); a rejected current version is still applied after it, so
   * it is recorded and reported like any other rejection.
   */
  public synchronized void loadAtStart() {
    Map<String, String> data;
    ConfigResult current = null;
    String problem;
    try {
      data = source.load();
      lastSeen = data;
      current = ConfigParser.parse(data, source.origin());
      if (current instanceof ConfigResult.Accepted) {
        holder.apply(current);
        save(data);
        return;
      }
      problem = "rejected: "
          + ConfigHolder.describe(((ConfigResult.Rejected) current).errors());
    } catch (IOException e) {
      lastReadFailure = e.toString();
      problem = "unreadable: " + e;
    }
    if (!startFromLastAccepted(problem)) {
      LOG.error("cilium-config at {} is {}; no last accepted version saved{}: running with the"
          + " defaults", source.origin(), problem,
          lastAccepted == null ? "" : " in " + lastAccepted.file());
    }
    if (current != null) {
      holder.apply(current); // recorded and reported as rejected; what is in force stays
    }
  }

  private boolean startFromLastAccepted(String problem) {
    if (lastAccepted == null) {
      return false;
    }
    Optional<LastAcceptedConfig.Saved> saved;
    try {
      saved = lastAccepted.load();
    } catch (IOException e) {
      LOG.error("cannot read the last accepted cilium-config: {}", e.getMessage());
      return false;
    }
    if (saved.isEmpty()) {
      return false;
    }
    ConfigResult parsed = ConfigParser.parse(saved.get().data(),
        ConfigOrigin.configMap(lastAccepted.file() + " (last accepted, from "
            + saved.get().source() + ")"));
    if (parsed instanceof ConfigResult.Rejected rejected) {
      // Accepted by an agent whose rules were different (an upgrade): not usable either.
      LOG.error("the last accepted cilium-config in {} is rejected by this agent: {}",
          lastAccepted.file(), ConfigHolder.describe(rejected.errors()));
      return false;
    }
    holder.applyLastAccepted((ConfigResult.Accepted) parsed, saved.get().acceptedAt(), problem);
    LOG.error("{} (saved in {})", holder.lastAcceptedInForce().orElseThrow().describe(),
        lastAccepted.file());
    return true;
  }

  /** Saves an accepted version's data; a failure is logged (once per distinct failure). */
  private void save(Map<String, String> data) {
    if (lastAccepted == null) {
      return;
    }
    try {
      lastAccepted.save(data, source.origin());
      lastSaveFailure = null;
    } catch (IOException | RuntimeException e) {
      String failure = e.toString();
      if (!failure.equals(lastSaveFailure)) {
        LOG.warn("cannot save the accepted cilium-config in {} (a restart while the ConfigMap is"
            + " rejected would run an older copy or the defaults): {}", lastAccepted.file(),
            failure);
        lastSaveFailure = failure;
      }
    }
  }

  /**
   * Loads now (unless {@link #loadAtStart} already read the same content), then every {@code
   * pollInterval} on a background thread.
   */
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
    if (holder.apply(ConfigParser.parse(data, source.origin())).status()
        != ConfigHolder.Status.REJECTED) {
      save(data);
    }
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
