package org.anetd.agent.endpoint;

import java.util.Collection;
import java.util.List;
import org.anetd.agent.datapath.Ipv4;

/**
 * What the eBPF datapath does for a pod endpoint: programs on the host end of its veth, and the
 * endpoint published so that its ipcache and policy entries get written. Implementations are idempotent: attach twice or detach something
 * already gone is fine, because ADD and DEL are retried by the runtime.
 */
public interface EndpointDatapath {
  /** True when the pod programs are loaded and endpoints can be attached (CNI STATUS). */
  boolean isLoaded();

  /** Attaches the pod programs to {@code endpoint.hostIfname()} and registers its address. */
  void attach(Endpoint endpoint);

  /**
   * Puts the programs back on an endpoint that survived an agent restart (the new agent loaded
   * new programs); replaces in place, without a gap.
   */
  default void reattach(Endpoint endpoint) {
    attach(endpoint);
  }

  /**
   * After {@link #reattach}ing the endpoints that survived a restart: forgets whatever the
   * datapath still holds for any other endpoint (entries a crashed or stopped agent left).
   */
  default void retainOnly(Collection<Endpoint> endpoints) {}

  /** Forgets the endpoint: removes its address and its programs, if still there. */
  void detach(Endpoint endpoint);

  /**
   * The pod of {@code address} is gone (its veth deleted) and the address is about to be
   * released: forgets the connections the datapath tracks for it (conntrack entries whose tuple
   * has the address), so the next pod given the address inherits none of them: a policy entry of
   * the old pod would let its peers' packets past the new pod's policy.
   */
  void forgetConnections(Ipv4 address);

  /** What is missing for {@code endpoint} (CNI CHECK); empty when all is in place. */
  List<String> problems(Endpoint endpoint);
}
