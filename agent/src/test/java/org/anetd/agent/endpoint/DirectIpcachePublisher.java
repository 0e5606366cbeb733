package org.anetd.agent.endpoint;

import java.util.List;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;

/**
 * For tests of the endpoint room alone (no agent, no reconciler): writes the pod's /32 into the
 * ipcache directly with its endpoint id and an unknown identity. In the agent the reconciler is
 * the only writer of the ipcache (daemon's EndpointSync).
 */
final class DirectIpcachePublisher implements EndpointPublisher {
  private final BpfMap ipcache;
  private final Ipv4 nodeAddress;

  DirectIpcachePublisher(BpfMap ipcache, Ipv4 nodeAddress) {
    this.ipcache = ipcache;
    this.nodeAddress = nodeAddress;
  }

  @Override
  public void publish(Endpoint e) {
    ipcache.update(key(e), Ipcache4ValueCodec.INSTANCE.encode(
        new Ipcache4Value(Ipcache4Value.IDENTITY_UNKNOWN, nodeAddress, e.id())));
  }

  @Override
  public void withdraw(Endpoint e) {
    ipcache.delete(key(e));
  }

  @Override
  public List<String> problems(Endpoint e) {
    return ipcache.lookup(key(e)).isPresent() ? List.of()
        : List.of("address " + e.address() + " is not in the ipcache");
  }

  private static byte[] key(Endpoint e) {
    return Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(e.address()));
  }
}
