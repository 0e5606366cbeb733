package org.anetd.agent.config;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration in force, with last-good-config semantics: an accepted load replaces it, a
 * rejected load leaves it in place and is recorded (errors, time) for status and metrics. A bad
 * edit never sends the agent back to defaults, which could shrink maps or flip kube-proxy
 * replacement under running traffic.
 *
 * <p>Thread-safe. Listeners run on the thread that called {@link #apply}, in order, once per
 * accepted change (rejection listeners: once per rejected load); they should be quick (hand work
 * off to a queue).
 */
public final class ConfigHolder {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigHolder.class);

  /** What {@link #apply} did. */
  public enum Status {
    /** A new config is in force; listeners were told. */
    CHANGED,
    /** Accepted, but equal to the config in force: nothing to do. */
    UNCHANGED,
    /** Rejected; the previous config stays in force. */
    REJECTED
  }

  /**
   * @param noticesFirstSeen notices of this load not reported before (each is reported once)
   */
  public record ApplyOutcome(Status status, List<ConfigNotice> noticesFirstSeen) {
    public ApplyOutcome {
      noticesFirstSeen = List.copyOf(noticesFirstSeen);
    }
  }

  /**
   * The config in force is the saved copy of the last accepted version ({@link
   * LastAcceptedConfig}), because the current version could not be used when the agent started.
   *
   * @param acceptedAt when the saved version was accepted
   * @param problem why the current version is not in force ({@code rejected: ...} or
   *     {@code unreadable: ...})
   */
  public record LastAcceptedInForce(Instant acceptedAt, String problem) {
    public LastAcceptedInForce {
      Objects.requireNonNull(acceptedAt, "acceptedAt");
      Objects.requireNonNull(problem, "problem");
    }

    /** For the log and {@code anetd status}. */
    public String describe() {
      return "running the last accepted cilium-config of " + acceptedAt + ": the current one is "
          + problem;
    }
  }

  private final Clock clock;
  private final List<Consumer<AgentConfig>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ConfigRejection>> rejectionListeners = new CopyOnWriteArrayList<>();
  private final Set<ConfigNotice> reportedNotices = new HashSet<>();
  private volatile AgentConfig current;
  private volatile ConfigRejection lastRejection;
  private volatile LastAcceptedInForce lastAcceptedInForce;
  private long acceptedTotal;
  private long rejectedTotal;

  /** Starts from the defaults. */
  public ConfigHolder() {
    this(AgentConfig.defaults(), Clock.systemUTC());
  }

  /** Starts from {@code initial}, a config already known to be good. */
  public ConfigHolder(AgentConfig initial, Clock clock) {
    this.current = Objects.requireNonNull(initial, "initial");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The config in force. */
  public AgentConfig current() {
    return current;
  }

  /** The most recent rejection, until a later load is accepted. */
  public Optional<ConfigRejection> lastRejection() {
    return Optional.ofNullable(lastRejection);
  }

  /**
   * Set when the agent started on the saved last accepted version; cleared when a version is
   * accepted.
   */
  public Optional<LastAcceptedInForce> lastAcceptedInForce() {
    return Optional.ofNullable(lastAcceptedInForce);
  }

  /**
   * Puts in force {@code saved}, the saved copy of the version accepted at {@code acceptedAt},
   * because the current version cannot be used ({@code problem}); kept in force, and reported,
   * until a version is accepted.
   */
  public synchronized ApplyOutcome applyLastAccepted(ConfigResult.Accepted saved,
      Instant acceptedAt, String problem) {
    ApplyOutcome outcome = apply(saved);
    lastAcceptedInForce = new LastAcceptedInForce(acceptedAt, problem);
    return outcome;
  }

  public synchronized long acceptedTotal() {
    return acceptedTotal;
  }

  public synchronized long rejectedTotal() {
    return rejectedTotal;
  }

  /** Called with each new config once it is in force. */
  public void addListener(Consumer<AgentConfig> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Called with each rejection, at start and at run time alike (the agent counts it and reports
   * it as an Event on the ConfigMap).
   */
  public void addRejectionListener(Consumer<ConfigRejection> listener) {
    rejectionListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Takes a new load: in force if accepted, recorded if rejected. */
  public synchronized ApplyOutcome apply(ConfigResult result) {
    List<ConfigNotice> firstSeen = reportOnce(result.notices());
    if (result instanceof ConfigResult.Rejected rejected) {
      rejectedTotal++;
      lastRejection = new ConfigRejection(clock.instant(), rejected.source(), rejected.errors());
      if (lastAcceptedInForce != null) {
        lastAcceptedInForce = new LastAcceptedInForce(lastAcceptedInForce.acceptedAt(),
            "rejected: " + describe(rejected.errors()));
      }
      LOG.warn("config from {} rejected, keeping the config in force: {}", rejected.source(),
          describe(rejected.errors()));
      tell(rejectionListeners, lastRejection);
      return new ApplyOutcome(Status.REJECTED, firstSeen);
    }
    ConfigResult.Accepted accepted = (ConfigResult.Accepted) result;
    acceptedTotal++;
    lastRejection = null;
    lastAcceptedInForce = null;
    if (accepted.config().equals(current)) {
      return new ApplyOutcome(Status.UNCHANGED, firstSeen);
    }
    current = accepted.config();
    LOG.info("config from {} accepted", accepted.source());
    tell(listeners, current);
    return new ApplyOutcome(Status.CHANGED, firstSeen);
  }

  private static <T> void tell(List<Consumer<T>> listeners, T news) {
    for (Consumer<T> listener : listeners) {
      try {
        listener.accept(news);
      } catch (RuntimeException e) {
        // One broken listener must not keep the others from hearing it.
        LOG.error("config listener {} failed", listener, e);
      }
    }
  }

  /** Every error, as operators see them, separated by {@code ; }. */
  public static String describe(List<ConfigError> errors) {
    return String.join("; ", errors.stream().map(ConfigError::toString).toList());
  }

  // Unknown keys and the like are reported once, not on every reload of an unchanged ConfigMap.
  private List<ConfigNotice> reportOnce(List<ConfigNotice> notices) {
    List<ConfigNotice> firstSeen = new ArrayList<>();
    for (ConfigNotice notice : notices) {
      if (reportedNotices.add(notice)) {
        firstSeen.add(notice);
        if (notice.severity() == ConfigNotice.Severity.WARNING) {
          LOG.warn("config: {}: {}", notice.key(), notice.message());
        } else {
          LOG.info("config: {}: {}", notice.key(), notice.message());
        }
      }
    }
    return firstSeen;
  }
}
