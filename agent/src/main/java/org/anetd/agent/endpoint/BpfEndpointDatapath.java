package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;

/**
 * The real {@link EndpointDatapath}: the agent's loaded pod programs ({@code from_container} on tc
 * ingress, {@code to_container} on tc egress of the host veth), and the endpoint published to the
 * agent, whose reconciler writes its ipcache and policy entries (it is the only writer of those
 * maps). No second bpf_lxc object is loaded: the programs share the agent's pinned maps.
 */
public final class BpfEndpointDatapath implements EndpointDatapath {
  static final String FROM_CONTAINER = "from_container";
  static final String TO_CONTAINER = "to_container";

  private final BpfProgram fromContainer;
  private final BpfProgram toContainer;
  private final Path nodeNetns;
  private final EndpointPublisher publisher;

  /**
   * @param nodeNetns the node's network namespace; null for the agent's own
   * @param publisher writes (or has the reconciler write) the endpoint's map entries
   */
  public BpfEndpointDatapath(BpfProgram fromContainer, BpfProgram toContainer, Path nodeNetns,
      EndpointPublisher publisher) {
    this.fromContainer = fromContainer;
    this.toContainer = toContainer;
    this.nodeNetns = nodeNetns;
    this.publisher = publisher;
  }

  @Override
  public boolean isLoaded() {
    return true;
  }

  @Override
  public void attach(Endpoint endpoint) {
    reattach(endpoint);
    publisher.publish(endpoint);
  }

  /** Attaches the programs again (replacing in place: after an agent restart, new programs). */
  @Override
  public void reattach(Endpoint endpoint) {
    inNodeNamespace(() -> {
      int ifindex = NetworkNamespace.ifindex(endpoint.hostIfname());
      TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, fromContainer);
      TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, toContainer);
      return null;
    });
  }

  @Override
  public void detach(Endpoint endpoint) {
    publisher.withdraw(endpoint);
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
    problems.addAll(publisher.problems(endpoint));
    return problems;
  }

  private <T> T inNodeNamespace(Callable<T> work) {
    return NetworkNamespace.callIn(nodeNetns, work);
  }
}
