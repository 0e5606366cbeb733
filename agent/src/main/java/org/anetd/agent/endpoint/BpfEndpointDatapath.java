package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;

/**
 * The real {@link EndpointDatapath}: ebpf's bpf_lxc.o, loaded once with its maps pinned under a
 * bpffs directory (/sys/fs/bpf/anetd in production) so every program and a restarted agent share
 * them. Per endpoint, {@code from_container} goes on tc ingress and {@code to_container} on tc
 * egress of the host veth, and the pod's /32 goes into {@code anetd_ipcache4} with its endpoint id.
 *
 * <p>The identity written is {@link Ipcache4Value#IDENTITY_UNKNOWN} until the policy room assigns
 * label identities; the endpoint id and node address are what the datapath needs today.
 */
public final class BpfEndpointDatapath implements EndpointDatapath, AutoCloseable {
  static final String FROM_CONTAINER = "from_container";
  static final String TO_CONTAINER = "to_container";
  static final String IPCACHE = "anetd_ipcache4";

  private final BpfObject lxc;
  private final Path nodeNetns;
  private final Ipv4 nodeAddress;

  private BpfEndpointDatapath(BpfObject lxc, Path nodeNetns, Ipv4 nodeAddress) {
    this.lxc = lxc;
    this.nodeNetns = nodeNetns;
    this.nodeAddress = nodeAddress;
  }

  /** Loads bpf_lxc.o from the agent jar, maps pinned under {@code bpffsRoot}. */
  public static BpfEndpointDatapath load(Path bpffsRoot, Path nodeNetns, Ipv4 nodeAddress) {
    return load(BpfObject.openResource("bpf_lxc.o"), bpffsRoot, nodeNetns, nodeAddress);
  }

  /**
   * Pins {@code lxc}'s maps under {@code bpffsRoot} and loads it; takes ownership of the object.
   * {@code nodeNetns} null means the agent's own namespace.
   */
  public static BpfEndpointDatapath load(BpfObject lxc, Path bpffsRoot, Path nodeNetns,
      Ipv4 nodeAddress) {
    try {
      lxc.pinMapsUnder(bpffsRoot).load();
      lxc.program(FROM_CONTAINER);
      lxc.program(TO_CONTAINER);
      lxc.map(IPCACHE);
    } catch (RuntimeException e) {
      lxc.close();
      throw e;
    }
    return new BpfEndpointDatapath(lxc, nodeNetns, nodeAddress);
  }

  @Override
  public boolean isLoaded() {
    return true;
  }

  @Override
  public void attach(Endpoint endpoint) {
    inNodeNamespace(() -> {
      int ifindex = NetworkNamespace.ifindex(endpoint.hostIfname());
      TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, lxc.program(FROM_CONTAINER));
      TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, lxc.program(TO_CONTAINER));
      return null;
    });
    ipcache().update(ipcacheKey(endpoint), Ipcache4ValueCodec.INSTANCE.encode(
        new Ipcache4Value(Ipcache4Value.IDENTITY_UNKNOWN, nodeAddress, endpoint.id())));
  }

  @Override
  public void detach(Endpoint endpoint) {
    ipcache().delete(ipcacheKey(endpoint));
    // The tc filters live on the host veth, which EndpointManager deletes next; deleting the
    // interface removes its clsact hook and filters with it, so nothing else is left here.
  }

  @Override
  public List<String> problems(Endpoint endpoint) {
    List<String> problems = new ArrayList<>();
    inNodeNamespace(() -> {
      int ifindex;
      try {
        ifindex = NetworkNamespace.ifindex(endpoint.hostIfname());
      } catch (BpfException e) {
        problems.add("host interface " + endpoint.hostIfname() + " is missing");
        return null;
      }
      if (TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.INGRESS) == 0) {
        problems.add(FROM_CONTAINER + " is not attached to tc ingress of " + endpoint.hostIfname());
      }
      if (TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.EGRESS) == 0) {
        problems.add(TO_CONTAINER + " is not attached to tc egress of " + endpoint.hostIfname());
      }
      return null;
    });
    if (ipcache().lookup(ipcacheKey(endpoint)).isEmpty()) {
      problems.add("address " + endpoint.address() + " is not in " + IPCACHE);
    }
    return problems;
  }

  /** Where the shared maps are pinned (for tests and `anetd status`). */
  public Path ipcachePinPath() {
    return lxc.pinPaths().get(IPCACHE);
  }

  @Override
  public void close() {
    lxc.close();
  }

  private BpfMap ipcache() {
    return lxc.map(IPCACHE);
  }

  private static byte[] ipcacheKey(Endpoint endpoint) {
    return Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(endpoint.address()));
  }

  private <T> T inNodeNamespace(Callable<T> work) {
    if (nodeNetns == null) {
      try {
        return work.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return NetworkNamespace.call(nodeNetns, work);
  }
}
