package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Names one API object (namespace is empty for cluster-scoped kinds). */
public record ObjectRef(String kind, String namespace, String name) {
  public static ObjectRef of(HasMetadata o) {
    String ns = o.getMetadata().getNamespace();
    return new ObjectRef(o.getKind(), ns == null ? "" : ns, o.getMetadata().getName());
  }

  @Override
  public String toString() {
    return namespace.isEmpty() ? kind + "/" + name : kind + "/" + namespace + "/" + name;
  }
}
