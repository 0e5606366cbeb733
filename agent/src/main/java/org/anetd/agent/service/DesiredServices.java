package org.anetd.agent.service;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;

/**
 * The exact desired contents of the service maps for one ClusterState, plus what the next
 * compile and the status commands need. All maps iterate in a fixed order (keys sorted), so the
 * same input gives the same output, entry for entry.
 *
 * @param services lb4_services: per frontend view a master entry (slot 0) and slots 1..count
 * @param backends lb4_backends by backend id
 * @param revNat lb4_reverse_nat by rev-NAT id
 * @param ids the id allocation to pass to the next compile
 * @param healthChecks healthCheckNodePort -> what it answers, for {@link HealthCheckServer}
 * @param frontends per programmed Service, its frontend views (for {@code anetd bpf lb list})
 * @param problems objects or parts of objects that were skipped, and why
 */
public record DesiredServices(
    SortedMap<Lb4Key, Lb4Service> services,
    SortedMap<Long, Lb4Backend> backends,
    SortedMap<Integer, Lb4ReverseNat> revNat,
    ServiceIds ids,
    SortedMap<Integer, HealthCheck> healthChecks,
    SortedMap<ObjectRef, List<ProgrammedFrontend>> frontends,
    List<Problem> problems) {

  /** lb4_key order: address, port, protocol, scope, slot. */
  public static final Comparator<Lb4Key> KEY_ORDER = DesiredServices::compareKeys;

  /** Services by namespace, then name. */
  public static final Comparator<ObjectRef> SERVICE_ORDER =
      Comparator.comparing(ObjectRef::namespace)
          .thenComparing(ObjectRef::name)
          .thenComparing(ObjectRef::kind);

  public DesiredServices {
    services = sortedCopy(services, KEY_ORDER);
    backends = Collections.unmodifiableSortedMap(new TreeMap<>(backends));
    revNat = Collections.unmodifiableSortedMap(new TreeMap<>(revNat));
    healthChecks = Collections.unmodifiableSortedMap(new TreeMap<>(healthChecks));
    SortedMap<ObjectRef, List<ProgrammedFrontend>> frontendsCopy = new TreeMap<>(SERVICE_ORDER);
    frontends.forEach((ref, list) -> frontendsCopy.put(ref, List.copyOf(list)));
    frontends = Collections.unmodifiableSortedMap(frontendsCopy);
    problems = List.copyOf(problems);
  }

  /** Address, port, protocol, scope, slot; on primitives (110,000 keys at 10,000 Services). */
  private static int compareKeys(Lb4Key a, Lb4Key b) {
    int c = AddressOrder.compare(a.address(), a.port(), a.protocol(), b.address(), b.port(),
        b.protocol());
    if (c == 0) {
      c = Integer.compare(a.scope(), b.scope());
    }
    return c != 0 ? c : Integer.compare(a.slot(), b.slot());
  }

  private static <K, V> SortedMap<K, V> sortedCopy(Map<K, V> map, Comparator<K> order) {
    SortedMap<K, V> copy = new TreeMap<>(order);
    copy.putAll(map);
    return Collections.unmodifiableSortedMap(copy);
  }
}
