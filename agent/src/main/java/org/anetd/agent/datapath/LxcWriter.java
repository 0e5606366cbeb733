package org.anetd.agent.datapath;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The writer of anetd_lxc, the local endpoints the datapath delivers to directly (bpf_lxc's
 * {@code lxc4_deliver}). The endpoint datapath writes an entry when it attaches an endpoint's
 * programs and removes it on detach; after a restart, {@link #retainOnly} drops the entries of
 * endpoints that did not survive, so no entry outlives its host veth across a restart. A missing
 * entry only costs the fast path: the packet takes the node's stack. Thread-safe (CNI requests
 * run concurrently).
 */
public final class LxcWriter {
  private final MapWriter<Ipv4, Lxc4Info> writer;

  public LxcWriter(MapBackend backend) {
    this.writer = new MapWriter<>(backend, Ipv4KeyCodec.INSTANCE, Lxc4InfoCodec.INSTANCE);
  }

  /** Delivers {@code address} to {@code info}'s host veth from now on. */
  public synchronized void put(Ipv4 address, Lxc4Info info) {
    writer.upsert(Map.of(address, info));
  }

  /** Forgets {@code address}; absent is fine. */
  public synchronized void remove(Ipv4 address) {
    writer.deleteStale(Set.of(), address::equals);
  }

  /** Removes every entry whose address is not in {@code keep}; returns how many went. */
  public synchronized int retainOnly(Set<Ipv4> keep) {
    return writer.deleteStale(keep).deleted();
  }

  public synchronized Optional<Lxc4Info> find(Ipv4 address) {
    return Optional.ofNullable(writer.written().get(address));
  }

  public synchronized Map<Ipv4, Lxc4Info> entries() {
    return writer.written();
  }
}
