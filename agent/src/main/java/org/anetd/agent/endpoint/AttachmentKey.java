package org.anetd.agent.endpoint;

/**
 * One CNI attachment: the spec identifies it by (CNI_CONTAINERID, CNI_IFNAME). Addresses and
 * endpoints are keyed by it, so a container with two interfaces of this network gets two.
 */
public record AttachmentKey(String containerId, String ifname) {
  public AttachmentKey {
    if (containerId == null || containerId.isBlank()) {
      throw new IllegalArgumentException("attachment needs a container id");
    }
    if (ifname == null || ifname.isBlank()) {
      throw new IllegalArgumentException("attachment of container " + containerId
          + " needs an interface name");
    }
  }

  @Override
  public String toString() {
    return containerId + "/" + ifname;
  }
}
