package org.anetd.agent.config;

import java.io.IOException;
import java.util.Map;

/**
 * Where cilium-config data is read from. Today: {@link DirectoryConfigSource}, the ConfigMap
 * mounted into the pod. Reading {@code kube-system/cilium-config} from the API server belongs in
 * the k8s room (an informer calling {@link ConfigParser#parse} with {@link
 * ConfigOrigin#CILIUM_CONFIG} and feeding a {@link ConfigHolder}); it implements this interface
 * there, so this package keeps depending on nothing else in the agent.
 */
public interface ConfigSource {
  /** The origin to record for values read from here. */
  ConfigOrigin origin();

  /** The current key -> value data, values trimmed. */
  Map<String, String> load() throws IOException;
}
