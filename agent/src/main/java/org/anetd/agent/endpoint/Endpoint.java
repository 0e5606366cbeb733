package org.anetd.agent.endpoint;

import org.anetd.agent.datapath.Ipv4;

/**
 * A pod attachment wired by anetd: the numeric endpoint id the datapath knows it by, its address,
 * the host end of its veth (name, ifindex and MAC in the node's namespace), the pod and the pod
 * namespace path (CNI_NETNS) it was created in.
 */
public record Endpoint(int id, AttachmentKey key, PodRef pod, Ipv4 address, String hostIfname,
    int hostIfindex, String hostMac, String podIfMac, String podNetns) {
  /** Endpoint ids fit the datapath's 16-bit endpoint_id (0 means "not a local endpoint"). */
  public static final int MAX_ID = 0xffff;
}
