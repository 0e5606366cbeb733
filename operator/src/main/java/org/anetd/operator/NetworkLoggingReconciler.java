package org.anetd.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import org.anetd.operator.api.NetworkLogging;
import org.anetd.operator.api.NetworkLoggingStatus;
import org.anetd.operator.api.NetworkLoggingValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles {@link NetworkLogging}: observe (the status on the object, which holds the settings
 * in force), validate ({@link NetworkLoggingValidator}), act (Events, then the next status).
 *
 * <p>An invalid spec gets a Warning Event naming the field and Ready=False/Degraded=True; the
 * previous {@code status.appliedSpec} stays in force, never reset to defaults. Status is patched
 * on a fresh object carrying only the name and the status, and only when it differs.
 */
@ControllerConfiguration(name = NetworkLoggingReconciler.NAME)
public class NetworkLoggingReconciler implements Reconciler<NetworkLogging> {
  public static final String NAME = "networklogging";
  private static final Logger log = LoggerFactory.getLogger(NetworkLoggingReconciler.class);

  private final NetworkLoggingValidator validator = new NetworkLoggingValidator();
  private final NetworkLoggingStatusAggregator aggregator =
      new NetworkLoggingStatusAggregator(validator);
  private final EventRecorder events;
  private final Clock clock;

  public NetworkLoggingReconciler(Clock clock) {
    this.clock = clock;
    this.events = new EventRecorder(clock);
  }

  @Override
  public UpdateControl<NetworkLogging> reconcile(NetworkLogging nl, Context<NetworkLogging> ctx) {
    // observe
    NetworkLoggingStatus current = nl.getStatus();
    // validate
    Optional<String> error = validator.validate(nl);
    // act
    NetworkLoggingStatus next = aggregator.next(current, nl.getMetadata().getGeneration(),
        nl.getSpec(), error, clock.instant());
    String ref = "NetworkLogging/" + nl.getMetadata().getName();
    if (error.isPresent()) {
      log.warn("{} gen {}: {}", ref, nl.getMetadata().getGeneration(), error.get());
      events.recordOrLog(ctx.getClient(), nl, EventRecorder.Type.Warning, EventReason.ValidationError,
          error.get());
    } else if (!Objects.equals(next.getAppliedSpec(),
        current == null ? null : current.getAppliedSpec())) {
      log.info("{} gen {}: applied {}", ref, nl.getMetadata().getGeneration(),
          next.getAppliedSpec());
      events.recordOrLog(ctx.getClient(), nl, EventRecorder.Type.Normal, EventReason.SpecApplied,
          "in force: " + next.getAppliedSpec());
    }
    if (next.equals(current)) {
      return UpdateControl.noUpdate();
    }
    return UpdateControl.patchStatus(forStatusPatch(nl, next));
  }

  /** A fresh object with only the name and the status, so the patch carries nothing stale. */
  static NetworkLogging forStatusPatch(NetworkLogging nl, NetworkLoggingStatus status) {
    NetworkLogging fresh = new NetworkLogging();
    fresh.setMetadata(new ObjectMetaBuilder().withName(nl.getMetadata().getName()).build());
    fresh.setStatus(status);
    return fresh;
  }
}
