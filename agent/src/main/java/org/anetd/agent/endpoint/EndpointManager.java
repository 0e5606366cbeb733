package org.anetd.agent.endpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.anetd.agent.datapath.Ipv4;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pod endpoint lifecycle behind the CNI commands.
 *
 * <pre>
 *   pod netns                          node netns (root in production)
 *   eth0 10.4.1.7/32 ===== veth ===== lxc&lt;11 hex&gt;  proxy_arp=1, tc from/to_container
 *   169.254.1.1 dev eth0 scope link     10.4.1.7 dev lxc... scope link
 *   default via 169.254.1.1 dev eth0
 * </pre>
 *
 * The pod's gateway 169.254.1.1 exists nowhere: the host veth answers its ARP by proxy, so every
 * packet of the pod reaches the node through its own veth and the programs there.
 *
 * <p>Only the CNI_IFNAME interface is touched, so anetd works as Multus' primary plugin beside
 * net1... of other plugins. ADD order is address, veth, pod side, host side, registry, datapath;
 * a failure undoes what was done. DEL runs the reverse and frees the address last, so an address
 * is never handed out while a veth still carries it. Missing pieces are fine for DEL.
 *
 * <p>ADD, DEL, CHECK and the garbage collectors' removals of one attachment run one at a time
 * (see {@link #attachmentLocks}).
 */
public final class EndpointManager implements CniHandler {
  /** The pod's gateway: link-local, answered by proxy ARP on the host veth. */
  public static final String GATEWAY = "169.254.1.1";
  private static final Logger LOG = LoggerFactory.getLogger(EndpointManager.class);

  private final Path nodeNetns;
  private final IpamStore ipam;
  private final EndpointRegistry registry;
  private final EndpointDatapath datapath;
  private final LinkOps links;
  private final Clock clock;
  /**
   * The runtime sends DEL for a container whose ADD it gave up on (plugin killed at its timeout)
   * while the agent still runs that ADD; run side by side, they leave an endpoint whose address
   * IPAM freed. Striped by attachment so the locks do not grow with every container the node
   * ever ran; two attachments sharing a stripe merely take turns. No thread holds two stripes.
   */
  private final ReentrantLock[] attachmentLocks = new ReentrantLock[64];
  /**
   * Attachments an ADD is working on, with how many ADDs: a runtime's GC lists only attachments
   * whose ADD finished, so it must not remove one whose ADD has not returned yet (registered or
   * not).
   */
  private final ConcurrentHashMap<AttachmentKey, Integer> addsInFlight =
      new ConcurrentHashMap<>();
  private final int mtu;

  {
    for (int i = 0; i < attachmentLocks.length; i++) {
      attachmentLocks[i] = new ReentrantLock();
    }
  }

  /**
   * @param nodeNetns the node's network namespace; null for the agent's own (production)
   */
  public EndpointManager(Path nodeNetns, IpamStore ipam, EndpointRegistry registry,
      EndpointDatapath datapath, LinkOps links) {
    this(nodeNetns, ipam, registry, datapath, links, Clock.systemUTC());
  }

  public EndpointManager(Path nodeNetns, IpamStore ipam, EndpointRegistry registry,
      EndpointDatapath datapath, LinkOps links, Clock clock) {
    this(nodeNetns, ipam, registry, datapath, links, clock, 0);
  }

  /** @param mtu the pods' interface MTU (cilium-config mtu, resolved); 0: the kernel's default */
  public EndpointManager(Path nodeNetns, IpamStore ipam, EndpointRegistry registry,
      EndpointDatapath datapath, LinkOps links, Clock clock, int mtu) {
    this.mtu = mtu;
    this.clock = clock;
    this.nodeNetns = nodeNetns;
    this.ipam = ipam;
    this.registry = registry;
    this.datapath = datapath;
    this.links = links;
  }

  @Override
  public CniResult add(CniRequest request) {
    AttachmentKey key = request.key();
    addsInFlight.merge(key, 1, Integer::sum);
    try {
      return locked(key, () -> addLocked(key, request));
    } finally {
      addsInFlight.merge(key, -1, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  private CniResult addLocked(AttachmentKey key, CniRequest request) {
    Path podNetns = request.requireNetns();
    if (!Files.exists(podNetns)) {
      throw new CniException(CniError.UNKNOWN_CONTAINER, "network namespace " + podNetns
          + " does not exist", "container " + key.containerId());
    }
    if (links.link(podNetns, key.ifname()).isPresent()) {
      throw new CniException(CniError.INTERFACE_EXISTS, "interface " + key.ifname()
          + " already exists in " + podNetns, "a second ADD for " + key
          + " without DEL, or another plugin owns " + key.ifname());
    }
    Allocation allocation;
    try {
      allocation = ipam.allocate(key, request.pod());
    } catch (PoolExhaustedException e) {
      throw new CniException(CniError.POOL_EXHAUSTED, "no free pod address", e.getMessage());
    }
    String host = HostVethName.of(key);
    try {
      Endpoint endpoint = wire(key, request.pod(), podNetns, allocation.address(), host);
      LOG.info("endpoint {} added: pod {} {} {} on {}", endpoint.id(), endpoint.pod(), key,
          endpoint.address(), host);
      return result(endpoint);
    } catch (RuntimeException e) {
      undo(key, host);
      if (e instanceof CniException) {
        throw e;
      }
      throw new CniException(CniError.AGENT_FAILURE, "cannot add " + key + " to the network",
          e.getMessage(), e);
    }
  }

  private Endpoint wire(AttachmentKey key, PodRef pod, Path podNetns, Ipv4 address, String host) {
    String podIf = key.ifname();
    // A veth of this name is ours (the name derives from the key): a crashed ADD left it.
    links.deleteLink(nodeNetns, host);
    links.createVethPair(nodeNetns, host, podNetns, podIf, mtu);

    links.addAddress(podNetns, podIf, address + "/32");
    links.setUp(podNetns, podIf);
    links.addRoute(podNetns, LinkOps.Route.link(GATEWAY, podIf));
    links.addRoute(podNetns, LinkOps.Route.defaultVia(GATEWAY, podIf));

    links.setSysctl(nodeNetns, "net.ipv4.conf." + host + ".proxy_arp", "1");
    // Answer the pod's ARP for the gateway at once instead of after up to 0.8 s.
    links.setSysctl(nodeNetns, "net.ipv4.neigh." + host + ".proxy_delay", "0");
    links.setUp(nodeNetns, host);
    links.addRoute(nodeNetns, LinkOps.Route.link(address.toString(), host));

    LinkOps.Link hostLink = links.link(nodeNetns, host).orElseThrow(
        () -> new IllegalStateException("host veth " + host + " vanished during ADD"));
    LinkOps.Link podLink = links.link(podNetns, podIf).orElseThrow(
        () -> new IllegalStateException(podIf + " in " + podNetns + " vanished during ADD"));
    Endpoint endpoint = registry.register(key, id -> new Endpoint(id, key, pod, address, host,
        hostLink.ifindex(), hostLink.mac(), podLink.mac(), podNetns.toString()));
    datapath.attach(endpoint);
    return endpoint;
  }

  private CniResult result(Endpoint e) {
    return new CniResult(
        List.of(new CniResult.Interface(e.hostIfname(), e.hostMac(), ""),
            new CniResult.Interface(e.key().ifname(), e.podIfMac(), e.podNetns())),
        List.of(new CniResult.IpConfig(e.address() + "/32", GATEWAY, 1)),
        List.of(new CniResult.Route("0.0.0.0/0", null)));
  }

  /** Best-effort removal after a failed ADD; the failure itself is what the caller reports. */
  private void undo(AttachmentKey key, String host) {
    try {
      remove(key, Optional.of(host));
    } catch (RuntimeException cleanup) {
      LOG.warn("cleaning up the failed ADD of {}: {}", key, cleanup.getMessage());
    }
  }

  @Override
  public void del(CniRequest request) {
    AttachmentKey key = request.key();
    try {
      locked(key, () -> remove(key, Optional.empty()));
      LOG.info("endpoint of {} deleted", key);
    } catch (RuntimeException e) {
      throw new CniException(CniError.AGENT_FAILURE, "cannot delete " + key + " from the network",
          e.getMessage(), e);
    }
  }

  private ReentrantLock lockOf(AttachmentKey key) {
    return attachmentLocks[Math.floorMod(key.hashCode(), attachmentLocks.length)];
  }

  /** {@code action} under the attachment's lock if it is free now, else empty. */
  private <T> Optional<T> tryLocked(AttachmentKey key, Supplier<T> action) {
    ReentrantLock lock = lockOf(key);
    if (!lock.tryLock()) {
      return Optional.empty();
    }
    try {
      return Optional.of(action.get());
    } finally {
      lock.unlock();
    }
  }

  private <T> T locked(AttachmentKey key, Supplier<T> action) {
    ReentrantLock lock = lockOf(key);
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }

  private void locked(AttachmentKey key, Runnable action) {
    locked(key, () -> {
      action.run();
      return null;
    });
  }

  /** Removes everything of {@code key} that exists; idempotent. */
  private void remove(AttachmentKey key, Optional<String> hostHint) {
    Optional<Endpoint> endpoint = registry.find(key);
    String host = endpoint.map(Endpoint::hostIfname)
        .orElseGet(() -> hostHint.orElse(HostVethName.of(key)));
    if (endpoint.isPresent()) {
      datapath.detach(endpoint.get());
    }
    // The pod end goes with the host end; if the pod namespace is already gone, so is the pair.
    links.deleteLink(nodeNetns, host);
    // no packet of the pod can come any more: its connections go before its address is free
    Optional<Ipv4> address = endpoint.map(Endpoint::address)
        .or(() -> ipam.find(key).map(Allocation::address));
    address.ifPresent(datapath::forgetConnections);
    registry.remove(key);
    ipam.release(key);
  }

  @Override
  public void check(CniRequest request) {
    AttachmentKey key = request.key();
    locked(key, () -> checkLocked(key, request));
  }

  private void checkLocked(AttachmentKey key, CniRequest request) {
    Path podNetns = request.requireNetns();
    Endpoint e = registry.find(key).orElseThrow(() -> new CniException(CniError.CHECK_FAILED,
        "no anetd endpoint for " + key, "ADD did not complete or DEL removed it"));
    List<String> problems = new ArrayList<>();
    Optional<Allocation> allocation = ipam.find(key);
    if (allocation.isEmpty() || !allocation.get().address().equals(e.address())) {
      problems.add("IPAM has " + allocation.map(a -> a.address().toString()).orElse("no address")
          + " for " + key + ", the endpoint has " + e.address());
    }
    Optional<LinkOps.Link> podLink = links.link(podNetns, key.ifname());
    if (podLink.isEmpty()) {
      problems.add(key.ifname() + " is missing in " + podNetns);
    } else {
      if (!podLink.get().up()) {
        problems.add(key.ifname() + " in " + podNetns + " is down");
      }
      if (!links.addresses(podNetns, key.ifname()).contains(e.address() + "/32")) {
        problems.add(key.ifname() + " in " + podNetns + " lacks " + e.address() + "/32");
      }
      List<LinkOps.Route> podRoutes = links.routes(podNetns, key.ifname());
      if (!podRoutes.contains(LinkOps.Route.link(GATEWAY, key.ifname()))) {
        problems.add("route " + GATEWAY + " dev " + key.ifname() + " scope link is missing");
      }
      if (!podRoutes.contains(LinkOps.Route.defaultVia(GATEWAY, key.ifname()))) {
        problems.add("route default via " + GATEWAY + " dev " + key.ifname() + " is missing");
      }
    }
    if (links.link(nodeNetns, e.hostIfname()).isEmpty()) {
      problems.add("host veth " + e.hostIfname() + " is missing");
    } else if (!links.routes(nodeNetns, e.hostIfname())
        .contains(LinkOps.Route.link(e.address().toString(), e.hostIfname()))) {
      problems.add("host route " + e.address() + " dev " + e.hostIfname() + " is missing");
    }
    problems.addAll(datapath.problems(e));
    if (!problems.isEmpty()) {
      throw new CniException(CniError.CHECK_FAILED, "endpoint " + e.id() + " of " + key
          + " is not as ADD left it", String.join("; ", problems));
    }
  }

  @Override
  public void status(CniRequest request) {
    if (!datapath.isLoaded()) {
      throw new CniException(CniError.NOT_AVAILABLE, "anetd datapath is not loaded", null);
    }
    PodCidr cidr = ipam.podCidr();
    long used = Ipam.usedIn(cidr, ipam.allocations());
    if (used >= cidr.poolSize()) {
      throw new CniException(CniError.NOT_AVAILABLE, "no free pod address",
          Ipam.exhaustedMessage(cidr, ipam.allocations()));
    }
  }

  /** Spec 1.1 GC: removes endpoints and addresses of attachments not in the valid list. */
  @Override
  public void gc(CniRequest request) {
    List<String> failures = new ArrayList<>();
    Set<AttachmentKey> adding = Set.copyOf(addsInFlight.keySet()); // before the registry's list
    for (Endpoint e : registry.all()) {
      if (!request.validAttachments().contains(e.key()) && !adding.contains(e.key())) {
        try {
          locked(e.key(), () -> remove(e.key(), Optional.empty()));
          LOG.info("GC removed endpoint {} of {}", e.id(), e.key());
        } catch (RuntimeException ex) {
          failures.add(e.key() + ": " + ex.getMessage());
        }
      }
    }
    try {
      // an endpoint that could not be removed keeps its address
      Set<AttachmentKey> keep = new HashSet<>(request.validAttachments());
      keep.addAll(adding);
      keep.addAll(inUse());
      for (Allocation a : ipam.releaseAllExcept(keep)) {
        LOG.info("GC freed {} of {}", a.address(), a.key());
      }
    } catch (RuntimeException ex) {
      failures.add("IPAM: " + ex.getMessage());
    }
    if (!failures.isEmpty()) {
      throw new CniException(CniError.GC_INCOMPLETE, "GC could not remove every stale attachment",
          String.join("; ", failures));
    }
  }

  /**
   * After an agent restart: puts the (new) programs back on every registered endpoint whose host
   * veth still exists. Endpoints whose veth is gone are left for DEL or garbage collection.
   *
   * @return how many endpoints were re-attached
   */
  public int restore() {
    List<Endpoint> restoredEndpoints = new ArrayList<>();
    for (Endpoint e : registry.all()) {
      if (links.link(nodeNetns, e.hostIfname()).isEmpty()) {
        LOG.warn("endpoint {} of {} ({}): host veth {} is gone; left for DEL or GC", e.id(),
            e.pod(), e.key(), e.hostIfname());
        continue;
      }
      try {
        datapath.reattach(e);
        restoredEndpoints.add(e);
      } catch (RuntimeException ex) {
        LOG.error("cannot re-attach endpoint {} of {} on {}: {}", e.id(), e.pod(), e.hostIfname(),
            ex.getMessage());
      }
    }
    datapath.retainOnly(restoredEndpoints);
    // Last, so a corrupted allocations file stops only this (and ADD), not the running pods'
    // programs. An allocations file lost or removed (the recovery for a corrupted one): the
    // registry still knows every endpoint's address, and none may go to a new pod while its veth
    // carries it.
    List<Allocation> adopted = ipam.adopt(registry.all().stream()
        .map(e -> new Allocation(e.address(), e.key(), e.pod(), clock.instant())).toList());
    adopted.forEach(a -> LOG.warn("IPAM had no allocation of {} for {} ({}), which the endpoint"
        + " registry has: allocated again", a.address(), a.pod(), a.key()));
    return restoredEndpoints.size();
  }

  /**
   * Frees what pods that no longer exist left behind (see {@link IpamGarbageCollector}): their
   * endpoint (programs, veth, registry entry) first, then their addresses, so an address is never
   * handed out while a veth still carries it.
   *
   * @param live the pods of this node that exist now (from the API server)
   * @param grace allocations younger than this are kept (an ADD in flight)
   * @return the allocations freed
   */
  public List<Allocation> collectGarbage(Collection<LivePod> live, Duration grace) {
    List<Allocation> leaked = IpamGarbageCollector.toFree(ipam.allocations(), live,
        clock.instant(), grace);
    List<Allocation> freed = new ArrayList<>();
    for (Allocation a : leaked) {
      try {
        // never wait for an attachment's lock here: this runs on the reconcile loop, and an ADD
        // holding the lock waits for that loop's next pass; a busy one is looked at next time
        boolean removed = tryLocked(a.key(), () -> {
          if (registry.find(a.key()).isEmpty()) {
            return false;
          }
          remove(a.key(), Optional.empty()); // frees the address last
          return true;
        }).orElse(false);
        if (removed) {
          freed.add(a);
        }
      } catch (RuntimeException e) {
        LOG.warn("GC: cannot remove the endpoint of {} ({}): {}", a.pod(), a.key(),
            e.getMessage());
      }
    }
    freed.addAll(ipam.collectGarbage(live, grace, inUse()));
    freed.forEach(a -> LOG.info("GC freed {} of {} ({}): the pod no longer exists", a.address(),
        a.pod(), a.key()));
    return freed;
  }

  /**
   * Attachments whose address stays: an ADD is working on them, or they are registered (read in
   * that order: an ADD registers, then leaves the first set).
   */
  private Set<AttachmentKey> inUse() {
    Set<AttachmentKey> keys = new HashSet<>(addsInFlight.keySet());
    registry.all().forEach(e -> keys.add(e.key()));
    return keys;
  }

  public PodCidr podCidr() {
    return ipam.podCidr();
  }

  /** The endpoints of this node (for status and tests). */
  public List<Endpoint> endpoints() {
    return registry.all();
  }
}
