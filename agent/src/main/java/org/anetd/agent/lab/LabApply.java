package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code anetd lab apply -f FILE}: sends each object of a multi-document YAML file to the lab's
 * API server, creating it or replacing an existing one (keeping a Service's allocated ClusterIP
 * and NodePorts, as {@code kubectl apply} would), and says what it did, kubectl-style.
 */
public final class LabApply {
  private LabApply() {}

  public static List<String> apply(KubernetesClient client, Path file) throws IOException {
    List<HasMetadata> items;
    try (InputStream in = Files.newInputStream(file)) {
      items = client.load(in).items();
    }
    List<String> out = new ArrayList<>();
    for (HasMetadata item : items) {
      if (item == null) {
        continue;
      }
      boolean namespaced = item instanceof Namespaced
          || item instanceof io.fabric8.kubernetes.api.model.GenericKubernetesResource
              && item.getMetadata().getNamespace() != null;
      if (namespaced && item.getMetadata().getNamespace() == null) {
        item.getMetadata().setNamespace("default");
      }
      var resource = client.resource(item);
      HasMetadata current = resource.get();
      String what = item.getKind().toLowerCase() + "/" + item.getMetadata().getName();
      if (current == null) {
        resource.create();
        out.add(what + " created");
      } else {
        item.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        if (item instanceof Service s && current instanceof Service c) {
          if (s.getSpec().getClusterIP() == null) {
            s.getSpec().setClusterIP(c.getSpec().getClusterIP());
            s.getSpec().setClusterIPs(c.getSpec().getClusterIPs());
          }
        }
        client.resource(item).update();
        out.add(what + " configured");
      }
    }
    return out;
  }
}
