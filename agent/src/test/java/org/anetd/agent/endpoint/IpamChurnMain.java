package org.anetd.agent.endpoint;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;

/**
 * A child process for {@link IpamConcurrencyTest}: ADD/DEL cycles on a shared store until it is
 * killed, one line per durable step so the parent knows what the "runtime" was told.
 *
 * Between allocating and reporting, it registers the endpoint as the agent does (the agent also
 * wires the veth there): a kill in that window leaves an address nobody was told about, the leak
 * garbage collection exists for.
 *
 * <p>Args: state directory, pod CIDR, container id prefix, percent of ADDs kept, random seed.
 */
public final class IpamChurnMain {
  private IpamChurnMain() {}

  public static void main(String[] args) {
    Path state = Path.of(args[0]);
    IpamStore store = new IpamStore(state.resolve("ipam"), PodCidr.parse(args[1]),
        Clock.systemUTC());
    EndpointRegistry registry = new EndpointRegistry(state.resolve("endpoints"));
    String prefix = args[2];
    int keepPercent = Integer.parseInt(args[3]);
    Random random = new Random(Long.parseLong(args[4]));
    for (int i = 0; ; i++) {
      String id = prefix + "-" + i;
      AttachmentKey key = new AttachmentKey(id, "eth0");
      Allocation a = store.allocate(key, new PodRef("churn", id));
      registry.register(key, n -> new Endpoint(n, key, a.pod(), a.address(), "lxc" + n, n,
          "", "", "/proc/self/ns/net"));
      say("ADDED " + id + " " + a.address());
      if (random.nextInt(100) < keepPercent) {
        continue;
      }
      say("DELETING " + id);
      registry.remove(key);
      store.release(key);
      say("DELETED " + id);
    }
  }

  /**
   * Prefixed with System.nanoTime (CLOCK_MONOTONIC, one clock for all processes of the machine),
   * so the parent can order the lines of concurrent children. "ADDED" is said after the address
   * is durable, "DELETING" before the release starts: the order the parent sees is safe.
   */
  private static void say(String line) {
    System.out.println(System.nanoTime() + " " + line);
    System.out.flush();
  }
}
