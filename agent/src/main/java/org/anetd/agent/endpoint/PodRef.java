package org.anetd.agent.endpoint;

/**
 * The Kubernetes pod an attachment belongs to, from CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME).
 * Empty strings when the runtime did not say (plain CNI use outside Kubernetes).
 */
public record PodRef(String namespace, String name) {
  public static final PodRef UNKNOWN = new PodRef("", "");

  public PodRef {
    namespace = namespace == null ? "" : namespace;
    name = name == null ? "" : name;
  }

  public boolean isKnown() {
    return !namespace.isEmpty() && !name.isEmpty();
  }

  @Override
  public String toString() {
    return isKnown() ? namespace + "/" + name : "(pod unknown)";
  }
}
