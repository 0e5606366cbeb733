package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link LinkOps} in memory: namespaces of interfaces with addresses and routes, veth pairs that
 * die together, and a log of every mutating call. {@code failOn} makes one operation throw.
 * Not thread-safe: a test running the manager on two threads relies on its per-attachment lock.
 */
final class FakeLinkOps implements LinkOps {
  static final Path ROOT = Path.of("(agent namespace)");

  private final Map<Path, Map<String, FakeLink>> namespaces = new HashMap<>();
  private final Map<String, String> sysctls = new LinkedHashMap<>();
  final List<String> log = new ArrayList<>();
  private int nextIfindex = 10;
  String failOn;
  /** Runs first in createVethPair, on the caller's thread (a test parks an ADD there). */
  Runnable onCreateVethPair = () -> {};

  static final class FakeLink {
    Link link;
    Path peerNetns;
    String peerName;
    final List<String> addresses = new ArrayList<>();
    final List<Route> routes = new ArrayList<>();
  }

  /** Creates an interface some other plugin made (net1...). */
  void addForeignLink(Path netns, String ifname) {
    ns(netns).put(ifname, newLink(ifname));
  }

  Map<String, FakeLink> interfaces(Path netns) {
    return ns(netns);
  }

  String sysctl(Path netns, String key) {
    return sysctls.get(key(netns) + ":" + key);
  }

  @Override
  public Optional<Link> link(Path netns, String ifname) {
    FakeLink l = ns(netns).get(ifname);
    return l == null ? Optional.empty() : Optional.of(l.link);
  }

  @Override
  public void createVethPair(Path hostNetns, String hostIfname, Path peerNetns, String peerIfname,
      int mtu) {
    onCreateVethPair.run();
    record("createVethPair " + hostIfname + " " + peerIfname + (mtu > 0 ? " mtu " + mtu : ""));
    if (ns(hostNetns).containsKey(hostIfname) || ns(peerNetns).containsKey(peerIfname)) {
      throw new IllegalStateException("RTNETLINK answers: File exists");
    }
    FakeLink host = newLink(hostIfname);
    FakeLink peer = newLink(peerIfname);
    host.peerNetns = key(peerNetns);
    host.peerName = peerIfname;
    peer.peerNetns = key(hostNetns);
    peer.peerName = hostIfname;
    ns(hostNetns).put(hostIfname, host);
    ns(peerNetns).put(peerIfname, peer);
  }

  @Override
  public void deleteLink(Path netns, String ifname) {
    record("deleteLink " + ifname);
    FakeLink l = ns(netns).remove(ifname);
    if (l != null && l.peerNetns != null) {
      ns(l.peerNetns).remove(l.peerName);
    }
  }

  @Override
  public void setUp(Path netns, String ifname) {
    record("setUp " + ifname);
    FakeLink l = existing(netns, ifname);
    l.link = new Link(l.link.name(), l.link.ifindex(), l.link.mac(), true);
  }

  @Override
  public void addAddress(Path netns, String ifname, String cidr) {
    record("addAddress " + ifname + " " + cidr);
    existing(netns, ifname).addresses.add(cidr);
  }

  @Override
  public List<String> addresses(Path netns, String ifname) {
    FakeLink l = ns(netns).get(ifname);
    return l == null ? List.of() : List.copyOf(l.addresses);
  }

  @Override
  public void addRoute(Path netns, Route route) {
    record("addRoute " + route.dst() + (route.gateway() == null ? "" : " via " + route.gateway())
        + " dev " + route.dev());
    existing(netns, route.dev()).routes.add(route);
  }

  @Override
  public List<Route> routes(Path netns, String ifname) {
    FakeLink l = ns(netns).get(ifname);
    return l == null ? List.of() : List.copyOf(l.routes);
  }

  @Override
  public void setSysctl(Path netns, String key, String value) {
    record("setSysctl " + key + "=" + value);
    sysctls.put(key(netns) + ":" + key, value);
  }

  private void record(String op) {
    log.add(op);
    if (failOn != null && op.startsWith(failOn)) {
      throw new IllegalStateException("injected failure at " + op);
    }
  }

  private FakeLink existing(Path netns, String ifname) {
    FakeLink l = ns(netns).get(ifname);
    if (l == null) {
      throw new IllegalStateException("Cannot find device \"" + ifname + "\"");
    }
    return l;
  }

  private FakeLink newLink(String name) {
    FakeLink l = new FakeLink();
    int idx = nextIfindex++;
    l.link = new Link(name, idx, String.format("02:00:00:00:00:%02x", idx), false);
    return l;
  }

  private Map<String, FakeLink> ns(Path netns) {
    return namespaces.computeIfAbsent(key(netns), k -> new LinkedHashMap<>());
  }

  private static Path key(Path netns) {
    return netns == null ? ROOT : netns;
  }
}
