package org.anetd.agent.endpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One plugin invocation as the agent receives it: the CNI_* environment and the parsed network
 * configuration. Empty strings stand for unset variables.
 *
 * @param cniArgs CNI_ARGS split into its KEY=VALUE pairs
 * @param prevResult the configuration's prevResult (chained plugins), or null
 * @param validAttachments GC's cni.dev/valid-attachments
 */
public record CniRequest(CniCommand command, String containerId, String netns, String ifname,
    Map<String, String> cniArgs, String cniPath, String cniVersion, String networkName,
    JsonNode prevResult, Set<AttachmentKey> validAttachments) {
  public static final Set<String> SUPPORTED_VERSIONS =
      Set.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
  public static final List<String> SUPPORTED_VERSIONS_ORDERED =
      List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");

  public CniRequest {
    cniArgs = Map.copyOf(cniArgs);
    validAttachments = Set.copyOf(validAttachments);
  }

  public AttachmentKey key() {
    if (containerId.isEmpty()) {
      throw new CniException(CniError.INVALID_ENVIRONMENT, "CNI_CONTAINERID is not set",
          "CNI " + command + " needs CNI_CONTAINERID");
    }
    if (ifname.isEmpty()) {
      throw new CniException(CniError.INVALID_ENVIRONMENT, "CNI_IFNAME is not set",
          "CNI " + command + " needs CNI_IFNAME");
    }
    return new AttachmentKey(containerId, ifname);
  }

  /** CNI_NETNS as a path; required. */
  public Path requireNetns() {
    if (netns.isEmpty()) {
      throw new CniException(CniError.INVALID_ENVIRONMENT, "CNI_NETNS is not set",
          "CNI " + command + " needs CNI_NETNS");
    }
    return Path.of(netns);
  }

  /** CNI_NETNS as a path, when given (DEL may come without it). */
  public Optional<Path> optionalNetns() {
    return netns.isEmpty() ? Optional.empty() : Optional.of(Path.of(netns));
  }

  /** The pod, from K8S_POD_NAMESPACE and K8S_POD_NAME in CNI_ARGS. */
  public PodRef pod() {
    return new PodRef(cniArgs.get("K8S_POD_NAMESPACE"), cniArgs.get("K8S_POD_NAME"));
  }
}
