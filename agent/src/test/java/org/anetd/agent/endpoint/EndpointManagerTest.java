package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.datapath.Ipv4;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Endpoint wiring decisions against in-memory links and datapath (no root). */
class EndpointManagerTest {
  @TempDir
  Path tmp;

  private final FakeLinkOps links = new FakeLinkOps();
  private final RecordingEndpointDatapath datapath = new RecordingEndpointDatapath();
  private final Path node = Path.of("/fake/node");
  private Path podNetns;
  private IpamStore ipam;
  private EndpointManager manager;

  @BeforeEach
  void setUp() throws IOException {
    podNetns = Files.createFile(tmp.resolve("pod1-netns"));
    ipam = new IpamStore(tmp.resolve("ipam"), PodCidr.parse("10.4.1.0/24"), Clock.systemUTC());
    manager = new EndpointManager(node, ipam, new EndpointRegistry(tmp.resolve("endpoints")),
        datapath, links);
  }

  /** An ADD of c1 on its own thread, parked in a hook of the fakes ({@link #park}) until finished. */
  private final class ParkedAdd {
    private final CountDownLatch parked = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private final FutureTask<CniResult> add = new FutureTask<>(
        () -> manager.add(request(CniCommand.ADD, "c1", podNetns)));

    /** The hook: the ADD's thread waits here. */
    void park() {
      parked.countDown();
      try {
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Starts the ADD and returns once it is parked. */
    void start() throws InterruptedException {
      new Thread(add, "add-c1").start();
      assertThat(parked.await(10, TimeUnit.SECONDS)).as("ADD parked").isTrue();
    }

    /** Lets the ADD go on and returns its result. */
    CniResult finish() throws Exception {
      released.countDown();
      return add.get(10, TimeUnit.SECONDS);
    }
  }

  private CniRequest request(CniCommand command, String containerId, Path netns) {
    return new CniRequest(command, containerId, netns == null ? "" : netns.toString(), "eth0",
        Map.of("K8S_POD_NAMESPACE", "shop", "K8S_POD_NAME", "cart"), "", "1.0.0", "anetd", null,
        Set.of());
  }

  @Test
  void bothEndsOfAPodVethGetTheConfiguredMtu() {
    EndpointManager withMtu = new EndpointManager(node, ipam,
        new EndpointRegistry(tmp.resolve("endpoints-mtu")), datapath, links, Clock.systemUTC(),
        1460);

    withMtu.add(request(CniCommand.ADD, "c1", podNetns));

    assertThat(links.log).anySatisfy(op -> assertThat(op).startsWith("createVethPair ")
        .endsWith(" mtu 1460"));
  }

  @Test
  void addWiresPodAndHostSidesAndAttachesTheDatapath() {
    CniResult result = manager.add(request(CniCommand.ADD, "c1", podNetns));

    String host = HostVethName.of(new AttachmentKey("c1", "eth0"));
    assertThat(result.ips()).containsExactly(new CniResult.IpConfig("10.4.1.2/32", "169.254.1.1", 1));
    assertThat(result.interfaces().get(0).name()).isEqualTo(host);
    assertThat(result.interfaces().get(1).sandbox()).isEqualTo(podNetns.toString());
    assertThat(result.routes()).containsExactly(new CniResult.Route("0.0.0.0/0", null));
    assertThat(links.routes(podNetns, "eth0")).containsExactly(
        LinkOps.Route.link("169.254.1.1", "eth0"), LinkOps.Route.defaultVia("169.254.1.1", "eth0"));
    assertThat(links.addresses(podNetns, "eth0")).containsExactly("10.4.1.2/32");
    assertThat(links.routes(node, host)).containsExactly(LinkOps.Route.link("10.4.1.2", host));
    assertThat(links.sysctl(node, "net.ipv4.conf." + host + ".proxy_arp")).isEqualTo("1");
    assertThat(links.link(node, host).orElseThrow().up()).isTrue();
    assertThat(datapath.attached.values()).singleElement()
        .satisfies(e -> assertThat(e.pod()).isEqualTo(new PodRef("shop", "cart")));
  }

  /** ADD of container c2 for pod shop/{@code name}, in a network namespace of its own. */
  private void addShopPod(String name) throws IOException {
    Path pod2 = Files.createFile(tmp.resolve("pod2-netns"));
    manager.add(new CniRequest(CniCommand.ADD, "c2", pod2.toString(), "eth0",
        Map.of("K8S_POD_NAMESPACE", "shop", "K8S_POD_NAME", name), "", "1.0.0", "anetd", null,
        Set.of()));
  }

  @Test
  void restoreReattachesEndpointsWhoseVethSurvivedAndSkipsTheOthers() throws IOException {
    manager.add(request(CniCommand.ADD, "c1", podNetns));
    Path pod2 = Files.createFile(tmp.resolve("pod2-netns"));
    manager.add(request(CniCommand.ADD, "c2", pod2));
    links.deleteLink(node, HostVethName.of(new AttachmentKey("c2", "eth0")));
    datapath.log.clear();

    int restored = manager.restore();

    assertThat(restored).isEqualTo(1);
    assertThat(datapath.log).containsExactly(
        "attach 1 " + HostVethName.of(new AttachmentKey("c1", "eth0")),
        "retain only [1]"); // the datapath forgets whatever it holds for endpoint 2
  }

  @Test
  void garbageCollectionRemovesEndpointsAndAddressesOfPodsThatAreGone() throws IOException {
    manager.add(request(CniCommand.ADD, "c1", podNetns)); // shop/cart
    addShopPod("gone");

    var freed = manager.collectGarbage(java.util.List.of(LivePod.ofApi("shop", "cart")),
        java.time.Duration.ZERO);

    assertThat(freed).extracting(a -> a.pod().name()).containsExactly("gone");
    assertThat(manager.endpoints()).extracting(e -> e.pod().name()).containsExactly("cart");
    assertThat(ipam.allocations()).extracting(a -> a.pod().name()).containsExactly("cart");
    assertThat(links.link(node, HostVethName.of(new AttachmentKey("c2", "eth0")))).isEmpty();
    assertThat(datapath.attached.values()).extracting(e -> e.pod().name()).containsExactly("cart");
  }

  @Test
  void delRemovesEverythingAndASecondDelSucceeds() {
    manager.add(request(CniCommand.ADD, "c1", podNetns));

    manager.del(request(CniCommand.DEL, "c1", podNetns));
    manager.del(request(CniCommand.DEL, "c1", podNetns));
    manager.del(request(CniCommand.DEL, "c1", null)); // the runtime may omit CNI_NETNS

    assertThat(links.interfaces(node)).isEmpty();
    assertThat(links.interfaces(podNetns)).isEmpty();
    assertThat(ipam.allocations()).isEmpty();
    assertThat(manager.endpoints()).isEmpty();
    assertThat(datapath.attached).isEmpty();
  }

  /**
   * containerd sends DEL for a container whose ADD timed out (the plugin was killed) while the
   * agent still runs that ADD: the DEL waits for it and then removes everything.
   */
  @Test
  void aDelDuringTheAddOfTheSameContainerWaitsForTheAddAndLeavesNothing() throws Exception {
    ParkedAdd add = new ParkedAdd();
    links.onCreateVethPair = add::park;
    FutureTask<Void> del = new FutureTask<>(
        () -> manager.del(request(CniCommand.DEL, "c1", podNetns)), null);
    Thread delThread = new Thread(del, "del-c1");

    add.start();
    delThread.start();
    await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
        delThread.getState() == Thread.State.WAITING
            || delThread.getState() == Thread.State.TERMINATED);
    add.finish();
    del.get(10, TimeUnit.SECONDS);

    assertThat(manager.endpoints()).isEmpty();
    assertThat(ipam.allocations()).isEmpty();
    assertThat(links.interfaces(node)).isEmpty();
    assertThat(links.interfaces(podNetns)).isEmpty();
    assertThat(datapath.attached).isEmpty();
  }

  @Test
  void delForgetsThePodsConnectionsOnceItsVethIsGoneAndBeforeItsAddressIsFree() {
    manager.add(request(CniCommand.ADD, "c1", podNetns));
    Ipv4 address = manager.endpoints().get(0).address();
    String host = HostVethName.of(new AttachmentKey("c1", "eth0"));
    List<String> seen = new ArrayList<>();
    datapath.onForgetConnections = a -> seen.add(a + " veth " + links.link(node, host).isPresent()
        + " allocated " + ipam.find(new AttachmentKey("c1", "eth0")).isPresent());

    manager.del(request(CniCommand.DEL, "c1", podNetns));

    assertThat(seen).containsExactly(address + " veth false allocated true");
  }

  @Test
  void garbageCollectionForgetsTheConnectionsOfPodsThatAreGone() throws IOException {
    addShopPod("gone");
    Ipv4 address = manager.endpoints().get(0).address();

    manager.collectGarbage(List.of(), java.time.Duration.ZERO);

    assertThat(datapath.log).contains("forget connections " + address);
  }

  @Test
  void restoreAllocatesAgainTheAddressesOfEndpointsAnEmptiedIpamStoreLost() throws IOException {
    manager.add(request(CniCommand.ADD, "c1", podNetns));
    Ipv4 running = manager.endpoints().get(0).address();
    Files.delete(ipam.file()); // the documented recovery for a corrupted allocations file

    manager.restore();
    Path pod2 = Files.createFile(tmp.resolve("pod2-netns"));
    manager.add(request(CniCommand.ADD, "c2", pod2));

    assertThat(ipam.find(new AttachmentKey("c1", "eth0"))).map(Allocation::address)
        .contains(running);
    assertThat(ipam.find(new AttachmentKey("c2", "eth0"))).map(Allocation::address)
        .isPresent().get().isNotEqualTo(running);
  }

  @Test
  void garbageCollectionKeepsTheAddressOfAnEndpointItCannotRemove() throws IOException {
    addShopPod("gone");
    links.failOn = "deleteLink";

    var freed = manager.collectGarbage(List.of(), java.time.Duration.ZERO);

    assertThat(freed).isEmpty();
    assertThat(ipam.allocations()).extracting(a -> a.pod().name()).containsExactly("gone");
    links.failOn = null;
    assertThat(manager.collectGarbage(List.of(), java.time.Duration.ZERO))
        .as("the next collection removes it").extracting(a -> a.pod().name())
        .containsExactly("gone");
  }

  @Test
  void interfacesOfOtherPluginsAreLeftAloneByAddAndDel() {
    links.addForeignLink(podNetns, "net1");

    manager.add(request(CniCommand.ADD, "c1", podNetns));
    manager.del(request(CniCommand.DEL, "c1", podNetns));

    assertThat(links.interfaces(podNetns)).containsOnlyKeys("net1");
    assertThat(links.log).noneMatch(op -> op.contains("net1"));
  }

  @Test
  void addWhenTheInterfaceExistsFailsWithoutTouchingIt() {
    links.addForeignLink(podNetns, "eth0");

    assertThatThrownBy(() -> manager.add(request(CniCommand.ADD, "c1", podNetns)))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.INTERFACE_EXISTS));
    assertThat(links.log).isEmpty();
    assertThat(ipam.allocations()).isEmpty();
  }

  @Test
  void aFailedAddUndoesWhatItDid() {
    datapath.failAttach = true;

    assertThatThrownBy(() -> manager.add(request(CniCommand.ADD, "c1", podNetns)))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.AGENT_FAILURE));
    assertThat(links.interfaces(node)).isEmpty();
    assertThat(links.interfaces(podNetns)).isEmpty();
    assertThat(ipam.allocations()).isEmpty();
    assertThat(manager.endpoints()).isEmpty();
  }

  @Test
  void addOfAMissingNamespaceIsUnknownContainer() {
    assertThatThrownBy(() -> manager.add(request(CniCommand.ADD, "c1", tmp.resolve("gone"))))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.UNKNOWN_CONTAINER));
  }

  @Test
  void checkPassesAfterAddAndNamesWhatIsMissingLater() {
    manager.add(request(CniCommand.ADD, "c1", podNetns));
    manager.check(request(CniCommand.CHECK, "c1", podNetns));

    links.interfaces(podNetns).get("eth0").routes.clear();

    assertThatThrownBy(() -> manager.check(request(CniCommand.CHECK, "c1", podNetns)))
        .isInstanceOfSatisfying(CniException.class, e -> {
          assertThat(e.error().code()).isEqualTo(CniError.CHECK_FAILED);
          assertThat(e.error().details()).contains("default via 169.254.1.1");
        });
  }

  /** A runtime's GC lists attachments whose ADD finished: one still being added keeps its IP. */
  @Test
  void gcDuringAnAddKeepsTheAddressThatAddAllocated() throws Exception {
    ParkedAdd add = new ParkedAdd();
    links.onCreateVethPair = add::park;
    add.start();

    manager.gc(new CniRequest(CniCommand.GC, "", "", "", Map.of(), "", "1.1.0", "anetd", null,
        Set.of()));
    add.finish();

    assertThat(manager.endpoints()).extracting(e -> e.key().containerId()).containsExactly("c1");
    assertThat(ipam.allocations()).extracting(a -> a.key().containerId()).containsExactly("c1");
  }

  /** The ADD has registered its endpoint and waits for the datapath: GC leaves it too. */
  @Test
  void gcDuringAnAddThatRegisteredItsEndpointLeavesTheEndpoint() throws Exception {
    ParkedAdd add = new ParkedAdd();
    datapath.onAttach = add::park;
    add.start();
    FutureTask<Void> gc = new FutureTask<>(() -> manager.gc(new CniRequest(CniCommand.GC, "",
        "", "", Map.of(), "", "1.1.0", "anetd", null, Set.of())), null);
    Thread gcThread = new Thread(gc, "gc");
    gcThread.start();

    gcThread.join(2000); // GC may finish without waiting for the ADD, or wait for its lock
    add.finish();
    gc.get(10, TimeUnit.SECONDS);

    assertThat(manager.endpoints()).extracting(e -> e.key().containerId()).containsExactly("c1");
    assertThat(ipam.allocations()).extracting(a -> a.key().containerId()).containsExactly("c1");
  }

  /** The loop's IPAM GC never waits for an attachment lock an ADD holds (the ADD waits for it). */
  @Test
  void ipamGarbageCollectionSkipsAnAttachmentWhoseAddHoldsItsLock() throws Exception {
    ParkedAdd add = new ParkedAdd();
    datapath.onAttach = add::park;
    add.start();

    // no live pod and no grace: c1's allocation looks leaked while its ADD is not done
    FutureTask<List<Allocation>> gc = new FutureTask<>(
        () -> manager.collectGarbage(List.of(), java.time.Duration.ZERO));
    new Thread(gc, "loop-gc").start();

    try {
      assertThat(gc.get(5, TimeUnit.SECONDS)).as("returns without the ADD's lock").isEmpty();
    } finally {
      add.finish();
    }
    assertThat(manager.endpoints()).extracting(e -> e.key().containerId()).containsExactly("c1");
  }

  @Test
  void gcRemovesEndpointsAndAddressesNotInTheValidList() throws IOException {
    Path pod2 = Files.createFile(tmp.resolve("pod2-netns"));
    manager.add(request(CniCommand.ADD, "keep", podNetns));
    manager.add(request(CniCommand.ADD, "stale", pod2));
    ipam.allocate(new AttachmentKey("leaked", "eth0"), PodRef.UNKNOWN);

    manager.gc(new CniRequest(CniCommand.GC, "", "", "", Map.of(), "", "1.1.0", "anetd", null,
        Set.of(new AttachmentKey("keep", "eth0"))));

    assertThat(manager.endpoints()).extracting(e -> e.key().containerId()).containsExactly("keep");
    assertThat(ipam.allocations()).extracting(a -> a.key().containerId()).containsExactly("keep");
    assertThat(links.interfaces(pod2)).isEmpty();
  }

  @Test
  void statusIsNotAvailableWithoutDatapath() {
    datapath.loaded = false;

    assertThatThrownBy(() -> manager.status(request(CniCommand.STATUS, "", null)))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.NOT_AVAILABLE));
  }

  @Test
  void endpointIdsAreTheLowestFree() throws IOException {
    Path pod2 = Files.createFile(tmp.resolve("pod2-netns"));
    Path pod3 = Files.createFile(tmp.resolve("pod3-netns"));
    manager.add(request(CniCommand.ADD, "a", podNetns));
    manager.add(request(CniCommand.ADD, "b", pod2));
    manager.del(request(CniCommand.DEL, "a", podNetns));
    manager.add(request(CniCommand.ADD, "c", pod3));

    assertThat(manager.endpoints()).extracting(Endpoint::id, e -> e.key().containerId())
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1, "c"),
            org.assertj.core.groups.Tuple.tuple(2, "b"));
  }
}
