package org.anetd.operator;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.javaoperatorsdk.operator.api.config.informer.Field;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advisory check of the agent's ConfigMap {@code kube-system/cilium-config}: each value the
 * {@link CiliumConfigCheck} finds wrong becomes a Warning Event on the ConfigMap. The ConfigMap is
 * never modified; the agent's parser decides what is used (and keeps its last good config).
 *
 * <p>The informer watches only that name in kube-system; the name is checked again here because
 * field selectors are a hint some API servers (and test doubles) ignore.
 */
@ControllerConfiguration(
    name = CiliumConfigReconciler.NAME,
    informer = @Informer(
        namespaces = CiliumConfigReconciler.NAMESPACE,
        fieldSelector = @Field(path = "metadata.name", value = CiliumConfigReconciler.CONFIGMAP)))
public class CiliumConfigReconciler implements Reconciler<ConfigMap> {
  public static final String NAME = "cilium-config";
  public static final String NAMESPACE = "kube-system";
  public static final String CONFIGMAP = "cilium-config";
  private static final Logger log = LoggerFactory.getLogger(CiliumConfigReconciler.class);

  private final CiliumConfigCheck check = new CiliumConfigCheck();
  private final EventRecorder events;

  public CiliumConfigReconciler(Clock clock) {
    this.events = new EventRecorder(clock);
  }

  @Override
  public UpdateControl<ConfigMap> reconcile(ConfigMap cm, Context<ConfigMap> ctx) {
    if (!CONFIGMAP.equals(cm.getMetadata().getName())
        || !NAMESPACE.equals(cm.getMetadata().getNamespace())) {
      return UpdateControl.noUpdate();
    }
    List<CiliumConfigCheck.ConfigProblem> problems = check.check(cm.getData());
    for (CiliumConfigCheck.ConfigProblem p : problems) {
      String message = p + "; the agent rejects this value and keeps its last good one";
      log.warn("ConfigMap/{}/{}: {}", NAMESPACE, CONFIGMAP, message);
      events.recordOrLog(ctx.getClient(), cm, EventRecorder.Type.Warning,
          EventReason.InvalidConfigValue, message);
    }
    return UpdateControl.noUpdate();
  }
}
