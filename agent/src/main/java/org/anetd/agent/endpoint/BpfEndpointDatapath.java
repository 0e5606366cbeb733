package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.datapath.Lxc4Info;
import org.anetd.agent.datapath.AddressConntrackPurger;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.LxcWriter;
import org.anetd.agent.datapath.MapBackend;

/**
 * The real {@link EndpointDatapath}: the agent's loaded pod programs ({@code from_container} on tc
 * ingress, {@code to_container} on tc egress of the host veth), and the endpoint published to the
 * agent, whose reconciler writes its ipcache and policy entries (it is the only writer of those
 * maps). No second bpf_lxc object is loaded: the programs share the agent's pinned maps.
 *
 * <p>It also writes the endpoint's anetd_lxc entry (local delivery: other pods of the node reach
 * it without the node's stack) right after attaching its programs, and removes it first thing on
 * detach, so an entry exists only while the host veth it names carries our programs.
 */
public final class BpfEndpointDatapath implements EndpointDatapath {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(BpfEndpointDatapath.class);
  static final String FROM_CONTAINER = "from_container";
  static final String TO_CONTAINER = "to_container";

  private final BpfProgram fromContainer;
  private final BpfProgram toContainer;
  private final Path nodeNetns;
  private final EndpointPublisher publisher;
  private final LxcWriter lxc;
  private final AddressConntrackPurger conntrack;

  /**
   * @param nodeNetns the node's network namespace; null for the agent's own
   * @param publisher writes (or has the reconciler write) the endpoint's map entries
   * @param lxc the local delivery map of the same datapath as the programs
   * @param conntrack its conntrack tables ({@code Datapath.conntrackTables()})
   */
  public BpfEndpointDatapath(BpfProgram fromContainer, BpfProgram toContainer, Path nodeNetns,
      EndpointPublisher publisher, LxcWriter lxc, List<MapBackend> conntrack) {
    this.fromContainer = fromContainer;
    this.toContainer = toContainer;
    this.nodeNetns = nodeNetns;
    this.publisher = publisher;
    this.lxc = lxc;
    this.conntrack = new AddressConntrackPurger(conntrack);
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

  /**
   * Attaches the programs again (replacing in place: after an agent restart, new programs) and
   * (re)writes the endpoint's local delivery entry with the host veth's current ifindex.
   */
  @Override
  public void reattach(Endpoint endpoint) {
    int ifindex = inNodeNamespace(() -> {
      int i = NetworkNamespace.ifindex(endpoint.hostIfname());
      TcAttachment.attach(i, TcAttachment.Direction.INGRESS, fromContainer);
      TcAttachment.attach(i, TcAttachment.Direction.EGRESS, toContainer);
      return i;
    });
    Lxc4Info info;
    try {
      info = localDelivery(endpoint, ifindex);
    } catch (IllegalArgumentException e) {
      // a record without usable MACs: the endpoint works, through the node's stack
      LOG.warn("endpoint {} ({}): no local delivery: {}", endpoint.id(), endpoint.address(),
          e.getMessage());
      lxc.remove(endpoint.address());
      return;
    }
    lxc.put(endpoint.address(), info);
  }

  /** The anetd_lxc entry of {@code endpoint} whose host veth has {@code ifindex}. */
  public static Lxc4Info localDelivery(Endpoint endpoint, int ifindex) {
    return new Lxc4Info(ifindex, endpoint.id(), endpoint.podIfMac(), endpoint.hostMac());
  }

  /** Removes the local delivery entries of every address but the endpoints' (agent start). */
  @Override
  public void retainOnly(Collection<Endpoint> endpoints) {
    int removed = lxc.retainOnly(endpoints.stream().map(Endpoint::address)
        .collect(Collectors.toSet()));
    if (removed > 0) {
      LOG.info("removed {} local delivery entries of endpoints that are gone", removed);
    }
  }

  @Override
  public void detach(Endpoint endpoint) {
    lxc.remove(endpoint.address()); // no more direct delivery to a veth about to go
    publisher.withdraw(endpoint);
    // The tc filters live on the host veth, which EndpointManager deletes next; deleting the
    // interface removes its clsact hook and filters with it, so nothing else is left here.
  }

  @Override
  public void forgetConnections(Ipv4 address) {
    int purged = conntrack.purge(address);
    LOG.debug("conntrack purged of {} before its release ({} entries in that scan)", address,
        purged);
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
      Optional<Lxc4Info> have = lxc.find(endpoint.address());
      try {
        Lxc4Info want = localDelivery(endpoint, ifindex);
        if (!have.equals(Optional.of(want))) {
          problems.add("anetd_lxc has " + have.map(Object::toString).orElse("no entry") + " for "
              + endpoint.address() + ", expected " + want);
        }
      } catch (IllegalArgumentException e) {
        problems.add("no local delivery for " + endpoint.address() + ": " + e.getMessage());
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
