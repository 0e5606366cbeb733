package org.anetd.agent.daemon;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.List;
import org.anetd.agent.logging.LoggingSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the cluster's NetworkLogging named {@code default} (networking.gke.io/v1alpha1). An
 * invalid object (delegate without log, a malformed field) keeps the previous settings in force;
 * no object, or none named default, means no logging. A cluster without the CRD logs nothing and
 * the informer keeps retrying, so installing the CRD later just works.
 */
final class NetworkLoggingWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NetworkLoggingWatch.class);
  static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
      .withGroup("networking.gke.io").withVersion("v1alpha1").withKind("NetworkLogging")
      .withPlural("networkloggings").withNamespaced(false).build();

  private final SharedIndexInformer<GenericKubernetesResource> informer;
  private volatile LoggingSettings settings = LoggingSettings.DISABLED;

  NetworkLoggingWatch(KubernetesClient client) {
    informer = client.genericKubernetesResources(CONTEXT).runnableInformer(0);
    informer.exceptionHandler((synced, t) -> true); // keep retrying (e.g. CRD not installed yet)
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource r) {
        apply(r);
      }

      @Override
      public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource r) {
        apply(r);
      }

      @Override
      public void onDelete(GenericKubernetesResource r, boolean unknownFinalState) {
        if (LoggingSettings.NAME.equals(r.getMetadata().getName())) {
          settings = LoggingSettings.DISABLED;
          LOG.info("NetworkLogging default deleted: policy action logging off");
        }
      }
    });
    informer.start();
  }

  LoggingSettings settings() {
    return settings;
  }

  private void apply(GenericKubernetesResource r) {
    LoggingSettings.Parsed parsed = LoggingSettings.parse(r);
    List<String> problems = parsed.problems();
    if (!problems.isEmpty()) {
      LOG.warn("NetworkLogging {} not applied, previous settings stay in force: {}",
          r.getMetadata().getName(), problems);
    }
    settings = parsed.orKeep(settings);
  }

  @Override
  public void close() {
    informer.close();
  }
}
