package org.anetd.agent.endpoint;

/**
 * A pod that exists now, as the API server or the container runtime reports it. The sandbox
 * (container) id is null when the source does not know it (the API server does not).
 */
public record LivePod(String namespace, String name, String containerId) {
  public static LivePod ofApi(String namespace, String name) {
    return new LivePod(namespace, name, null);
  }

  public static LivePod ofRuntime(String namespace, String name, String containerId) {
    return new LivePod(namespace, name, containerId);
  }
}
