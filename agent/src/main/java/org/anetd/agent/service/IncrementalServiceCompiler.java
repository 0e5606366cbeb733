package org.anetd.agent.service;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4Key;
import org.anetd.agent.datapath.Lb4ReverseNat;
import org.anetd.agent.datapath.Lb4Service;
import org.anetd.agent.datapath.LbChanges;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.service.EndpointIndex.ServiceKey;
import org.anetd.agent.service.ServiceCompiler.FrontendView;
import org.anetd.agent.service.ServiceCompiler.RenderedService;
import org.anetd.agent.service.ServiceCompiler.ServicePlan;

/**
 * {@link ServiceCompiler} pass after pass, redoing only what changed: a Service is planned again
 * only when its Service object or one of its EndpointSlices is a different object than in the
 * previous snapshot (informers replace objects on every change), and only Services whose admitted
 * plan changed are rendered again. Each pass returns the map changes, so the writer's cost follows
 * the change, not the size of the cluster.
 *
 * <p>Its desired maps, ids and problems always equal what {@link ServiceCompiler#compile} gives
 * for the same snapshot and the previous ids ({@code IncrementalServiceCompilerTest} drives both
 * through random histories); every step is one of {@link ServiceCompiler}'s. Admission is where
 * Services meet: while the plans' total demand fits the maps, a Service loses nothing but frontend
 * addresses (and healthCheckNodePorts) an earlier Service also lists, which is decided address by
 * address; otherwise the whole admission of {@link ServiceCompiler} runs over the cached plans.
 *
 * <p>Not thread-safe: one reconciler drives it. After a write that landed call {@link #committed};
 * after a failed one do not (every id allocated since stays held back) and write the whole
 * desired state next.
 */
public final class IncrementalServiceCompiler {
  /** One pass: the map changes, every current problem and health check, and the totals. */
  public record Pass(LbChanges changes, List<Problem> problems,
      SortedMap<Integer, HealthCheck> healthChecks, Totals totals) {}

  /** Sizes of the desired state, for metrics and status. */
  public record Totals(int services, int serviceEntries, int backends, int revNat) {}

  /** The objects one Service is compiled from; compared by identity. */
  private record Sources(Service service, List<EndpointSlice> slices) {
    /**
     * The same objects, or the same versions of them: a relist after a watch reconnects decodes
     * new copies of unchanged objects, which must not cost a pass over every Service.
     */
    boolean sameVersions(Sources o) {
      if (o == null || !sameVersion(service, o.service) || slices.size() != o.slices.size()) {
        return false;
      }
      for (int i = 0; i < slices.size(); i++) {
        if (!sameVersion(slices.get(i), o.slices.get(i))) {
          return false;
        }
      }
      return true;
    }

    private static boolean sameVersion(HasMetadata a, HasMetadata b) {
      if (a == b) {
        return true;
      }
      if (a == null || b == null || a.getMetadata() == null || b.getMetadata() == null) {
        return false;
      }
      String version = a.getMetadata().getResourceVersion();
      return version != null && version.equals(b.getMetadata().getResourceVersion())
          && Objects.equals(a.getMetadata().getUid(), b.getMetadata().getUid())
          && Objects.equals(a.getMetadata().getName(), b.getMetadata().getName());
    }
  }

  /** A Service's plan (empty: nothing to program) and the problems of its objects. */
  private record Planned(Optional<ServicePlan> plan, List<Problem> problems) {}

  // Inputs of the previous pass.
  private String nodeName;
  private List<Ipv4> nodeIps;
  private ServiceCompilerConfig config;
  private final SourceIndex index = new SourceIndex();
  private final Map<ServiceKey, Sources> sources = new HashMap<>();
  private final Map<ServiceKey, Planned> planned = new HashMap<>();

  // Who lists which frontend address and healthCheckNodePort, over all plans.
  private final Map<FrontendAddress, List<ServiceKey>> listers = new HashMap<>();
  private final Map<Integer, List<ServiceKey>> healthCheckListers = new HashMap<>();
  private final Set<FrontendAddress> contested = new HashSet<>();
  private final Set<Integer> contestedHealthChecks = new HashSet<>();
  // Upper bounds of the plans' demand on the maps.
  private long demandEntries;
  private long demandBackends;
  private long demandFrontends;
  private int oversizedPlans;

  // Admission and its output.
  private final Map<ServiceKey, ServicePlan> admitted = new HashMap<>();
  private final Map<ServiceKey, List<Problem>> admissionProblems = new HashMap<>();
  private List<Problem> wholeAdmissionProblems = List.of();
  private boolean lastAdmissionWhole;
  private final Map<ServiceKey, RenderedService> rendered = new HashMap<>();

  // Ids and the desired maps.
  private final IdPool<BackendAddress> backendIds;
  private final IdPool<FrontendAddress> revNatIds;
  private boolean sweepIds = true;
  // Slot counts: backends, how many admitted Services list it ready (primary) and terminating
  // only (secondary); frontends, how many admitted Services have it (primary).
  // The desired maps are the union of the rendered Services (no second copy is kept).
  private int serviceEntries;
  private int revNatEntries;
  private final SortedMap<Integer, HealthCheck> healthChecks = new TreeMap<>();

  /** @param adopted the ids the maps hold now ({@link ServiceIds#recover}), kept for their keys */
  public IncrementalServiceCompiler(ServiceIds adopted) {
    this.backendIds = new IdPool<>(ServiceIds.MAX_BACKEND_ID, adopted.backendIds());
    Map<FrontendAddress, Long> revNat = new HashMap<>();
    adopted.revNatIds().forEach((f, id) -> revNat.put(f, id.longValue()));
    this.revNatIds = new IdPool<>(ServiceIds.MAX_REV_NAT_ID, revNat);
  }

  public Pass compile(ClusterState state, ServiceCompilerConfig config) {
    List<Problem> nodeProblems = new ArrayList<>();
    List<Ipv4> ips = ServiceCompiler.nodeAddresses(state, nodeProblems);
    boolean replanAll = !ips.equals(nodeIps) || !config.equals(this.config)
        || !state.nodeName().equals(nodeName);
    this.nodeIps = ips;
    this.config = config;
    this.nodeName = state.nodeName();

    // 1. Plan again what changed.
    Set<ServiceKey> candidates = index.update(state.services(), state.endpointSlices());
    if (replanAll || candidates == null) {
      candidates = new HashSet<>(index.keys());
      candidates.addAll(sources.keySet());
    }
    Set<ServiceKey> touchedKeys = new HashSet<>();
    Set<FrontendAddress> touchedAddresses = new HashSet<>();
    Set<Integer> touchedHealthChecks = new HashSet<>();
    for (ServiceKey key : candidates) {
      Sources objects = index.sourcesOf(key);
      if (objects == null ? sources.containsKey(key)
          : replanAll || !objects.sameVersions(sources.get(key))) {
        replan(key, objects, touchedAddresses, touchedHealthChecks);
        touchedKeys.add(key);
      } else if (objects != null) {
        sources.put(key, objects); // the informer's copies: let the ones it dropped go
      }
    }

    // 2. Admission.
    Predicate<FrontendAddress> programmed = f -> revNatIds.idOf(f) != null;
    Map<ServiceKey, ServicePlan> newlyAdmitted = demandFits(touchedKeys)
        ? admitByAddress(touchedKeys, touchedAddresses, touchedHealthChecks, programmed)
        : admitWhole(programmed);

    // 3. Ids and backend references of what admission changed, then 4. the entries.
    Set<ServiceKey> changed = new HashSet<>();
    newlyAdmitted.forEach((key, plan) -> {
      if (!Objects.equals(plan, admitted.get(key))) {
        changed.add(key);
      }
    });
    ChangeSet out = new ChangeSet();
    allocateIds(changed, newlyAdmitted, out);
    // All removals before all additions: a frontend address may move between two of them.
    changed.forEach(key -> unrender(key, out));
    for (ServiceKey key : changed) {
      ServicePlan plan = newlyAdmitted.get(key);
      if (plan == null) {
        admitted.remove(key);
      } else {
        admitted.put(key, plan);
        render(key, plan, out);
      }
    }
    return new Pass(out.changes(), problems(nodeProblems, index.invalidServices()),
        Collections.unmodifiableSortedMap(new TreeMap<>(healthChecks)), totals());
  }

  /** The last pass's writes landed. */
  public void committed() {
    backendIds.commit();
    revNatIds.commit();
  }

  /** lb4_services as desired now: a new map (for a whole write or a check, not every pass). */
  public Map<Lb4Key, Lb4Service> desiredServices() {
    Map<Lb4Key, Lb4Service> out = new HashMap<>(serviceEntries * 4 / 3 + 1);
    rendered.values().forEach(r -> out.putAll(r.entries()));
    return out;
  }

  /** lb4_backends as desired now (a new map). */
  public Map<Long, Lb4Backend> desiredBackends() {
    Map<Long, Lb4Backend> out = new HashMap<>(backendIds.slots().size() * 4 / 3 + 1);
    backendIds.slots().forEach((b, slot) -> out.put(backendIds.idOf(b), backendEntry(b, slot)));
    return out;
  }

  /** lb4_reverse_nat as desired now (a new map). */
  public Map<Integer, Lb4ReverseNat> desiredRevNat() {
    Map<Integer, Lb4ReverseNat> out = new HashMap<>();
    rendered.values().forEach(r -> out.putAll(r.revNat()));
    return out;
  }

  /** A backend's entry carries its state: ACTIVE while any admitted Service lists it ready. */
  private static Lb4Backend backendEntry(BackendAddress b, IdPool.Slot slot) {
    return new Lb4Backend(b.address(), b.port(), b.protocol(),
        slot.primary > 0 ? Lb4Backend.STATE_ACTIVE : Lb4Backend.STATE_TERMINATING);
  }

  /** The current allocation, as {@link ServiceCompiler#compile} takes it. A copy: not for passes. */
  public ServiceIds ids() {
    SortedMap<FrontendAddress, Integer> revNat = new TreeMap<>();
    revNatIds.view().forEach((f, id) -> revNat.put(f, id.intValue()));
    return new ServiceIds(new TreeMap<>(backendIds.view()), revNat);
  }

  /**
   * The whole desired state, sorted (a copy, for tests and diagnostics, not for passes); its
   * problems are empty: each {@link Pass} carries them.
   */
  public DesiredServices desired() {
    SortedMap<ObjectRef, List<ProgrammedFrontend>> frontends =
        new TreeMap<>(DesiredServices.SERVICE_ORDER);
    rendered.values().forEach(r -> frontends.put(r.service(), r.frontends()));
    SortedMap<Lb4Key, Lb4Service> services = new TreeMap<>(DesiredServices.KEY_ORDER);
    services.putAll(desiredServices());
    return new DesiredServices(services, new TreeMap<>(desiredBackends()),
        new TreeMap<>(desiredRevNat()), ids(), healthChecks, frontends, List.of());
  }

  public Totals totals() {
    return new Totals(rendered.size(), serviceEntries, backendIds.slots().size(), revNatEntries);
  }

  // ---- 1. sources and plans ----

  /**
   * Services and EndpointSlices by Service key, carried from snapshot to snapshot. Unchanged kinds
   * keep their list object, and a changed list mostly holds the same objects at the same places
   * (sorted by namespace and name), so a pass finds what changed by comparing references in one
   * walk; when objects were added or removed it compares every key instead.
   */
  private static final class SourceIndex {
    private List<Service> services = List.of();
    private List<EndpointSlice> slices = List.of();
    private final Map<ServiceKey, Service> serviceByKey = new HashMap<>();
    private final Map<ServiceKey, List<EndpointSlice>> slicesByKey = new HashMap<>();
    private List<Problem> invalidServices = List.of();

    /** Takes the snapshot's lists; returns the keys whose objects changed, null for "any". */
    Set<ServiceKey> update(List<Service> newServices, List<EndpointSlice> newSlices) {
      Set<ServiceKey> changed = new HashSet<>();
      boolean aligned = true;
      if (newServices != services) {
        aligned = replaceInPlace(services, newServices, changed, this::moveService);
        if (!aligned) {
          serviceByKey.clear();
          newServices.forEach(s -> keyOf(s).ifPresent(k -> serviceByKey.put(k, s)));
        }
        invalidServices = newServices.stream().map(ServiceChecks::checkObject)
            .flatMap(Optional::stream).toList();
        services = newServices;
      }
      if (newSlices != slices) {
        boolean slicesAligned = replaceInPlace(slices, newSlices, changed, this::moveSlice);
        if (!slicesAligned) {
          slicesByKey.clear();
          newSlices.forEach(s -> EndpointIndex.serviceOf(s).ifPresent(
              k -> slicesByKey.computeIfAbsent(k, x -> new ArrayList<>(1)).add(s)));
        }
        aligned &= slicesAligned;
        slices = newSlices;
      }
      return aligned ? changed : null;
    }

    Set<ServiceKey> keys() {
      Set<ServiceKey> keys = new HashSet<>(serviceByKey.keySet());
      keys.addAll(slicesByKey.keySet());
      return keys;
    }

    /** The objects of one key as they are now (a copy), null when it has none. */
    Sources sourcesOf(ServiceKey key) {
      Service service = serviceByKey.get(key);
      List<EndpointSlice> list = slicesByKey.get(key);
      if (service == null && list == null) {
        return null;
      }
      return new Sources(service, list == null ? List.of() : List.copyOf(list));
    }

    List<Problem> invalidServices() {
      return invalidServices;
    }

    /**
     * Walks two lists of the same length side by side; every position holding another object of
     * the same namespace and name is moved with {@code move}. False (nothing moved) when the
     * lists differ in length or names: objects came or went.
     */
    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> boolean replaceInPlace(
        List<T> before, List<T> after, Set<ServiceKey> changed, Mover<T> move) {
      if (before.size() != after.size()) {
        return false;
      }
      List<Integer> moved = new ArrayList<>();
      for (int i = 0; i < after.size(); i++) {
        T a = before.get(i);
        T b = after.get(i);
        if (a == b) {
          continue;
        }
        if (!Objects.equals(a.getMetadata().getNamespace(), b.getMetadata().getNamespace())
            || !Objects.equals(a.getMetadata().getName(), b.getMetadata().getName())) {
          return false;
        }
        moved.add(i);
      }
      for (int i : moved) {
        move.move(before.get(i), after.get(i), changed);
      }
      return true;
    }

    private interface Mover<T> {
      void move(T before, T after, Set<ServiceKey> changed);
    }

    private void moveService(Service before, Service after, Set<ServiceKey> changed) {
      keyOf(before).ifPresent(k -> {
        serviceByKey.remove(k, before);
        changed.add(k);
      });
      keyOf(after).ifPresent(k -> {
        serviceByKey.put(k, after);
        changed.add(k);
      });
    }

    private void moveSlice(EndpointSlice before, EndpointSlice after, Set<ServiceKey> changed) {
      EndpointIndex.serviceOf(before).ifPresent(k -> {
        List<EndpointSlice> list = slicesByKey.get(k);
        if (list != null) {
          list.removeIf(s -> s == before);
          if (list.isEmpty()) {
            slicesByKey.remove(k);
          }
        }
        changed.add(k);
      });
      EndpointIndex.serviceOf(after).ifPresent(k -> {
        slicesByKey.computeIfAbsent(k, x -> new ArrayList<>(1)).add(after);
        changed.add(k);
      });
    }

    private static Optional<ServiceKey> keyOf(Service service) {
      return ServiceChecks.checkObject(service).isPresent() ? Optional.empty()
          : Optional.of(new ServiceKey(service.getMetadata().getNamespace(),
              service.getMetadata().getName()));
    }
  }

  private void replan(ServiceKey key, Sources objects, Set<FrontendAddress> touchedAddresses,
      Set<Integer> touchedHealthChecks) {
    Planned before = planned.remove(key);
    if (before != null) {
      before.plan().ifPresent(p -> forgetDemand(key, p, touchedAddresses, touchedHealthChecks));
    }
    if (objects == null) {
      sources.remove(key);
      return;
    }
    sources.put(key, objects);
    List<Problem> problems = new ArrayList<>();
    EndpointIndex endpoints = EndpointIndex.of(objects.slices(), nodeName, problems);
    Optional<ServicePlan> plan = objects.service() == null ? Optional.empty()
        : ServiceCompiler.plan(objects.service(), nodeIps, endpoints, config, problems);
    if (before != null && before.plan().equals(plan)) {
      plan = before.plan(); // one copy: the admitted and rendered state refer to this one
    }
    planned.put(key, new Planned(plan, List.copyOf(problems)));
    plan.ifPresent(p -> addDemand(key, p, touchedAddresses, touchedHealthChecks));
  }

  private void addDemand(ServiceKey key, ServicePlan plan, Set<FrontendAddress> touchedAddresses,
      Set<Integer> touchedHealthChecks) {
    for (FrontendAddress address : plan.frontendAddresses()) {
      List<ServiceKey> keys = listers.computeIfAbsent(address, a -> new ArrayList<>(1));
      keys.add(key);
      if (keys.size() > 1) {
        contested.add(address);
      }
      touchedAddresses.add(address);
    }
    plan.healthCheckNodePort().ifPresent(port -> {
      List<ServiceKey> keys = healthCheckListers.computeIfAbsent(port, p -> new ArrayList<>(1));
      keys.add(key);
      if (keys.size() > 1) {
        contestedHealthChecks.add(port);
      }
      touchedHealthChecks.add(port);
    });
    demandEntries += plan.serviceEntries();
    demandBackends += plan.backendStates().size();
    demandFrontends += plan.frontendAddresses().size();
    oversizedPlans += oversized(plan) ? 1 : 0;
  }

  private void forgetDemand(ServiceKey key, ServicePlan plan,
      Set<FrontendAddress> touchedAddresses, Set<Integer> touchedHealthChecks) {
    for (FrontendAddress address : plan.frontendAddresses()) {
      List<ServiceKey> keys = listers.get(address);
      keys.remove(key);
      if (keys.size() < 2) {
        contested.remove(address);
      }
      if (keys.isEmpty()) {
        listers.remove(address);
      }
      touchedAddresses.add(address);
    }
    plan.healthCheckNodePort().ifPresent(port -> {
      List<ServiceKey> keys = healthCheckListers.get(port);
      keys.remove(key);
      if (keys.size() < 2) {
        contestedHealthChecks.remove(port);
      }
      if (keys.isEmpty()) {
        healthCheckListers.remove(port);
      }
      touchedHealthChecks.add(port);
    });
    demandEntries -= plan.serviceEntries();
    demandBackends -= plan.backendStates().size();
    demandFrontends -= plan.frontendAddresses().size();
    oversizedPlans -= oversized(plan) ? 1 : 0;
  }

  private static boolean oversized(ServicePlan plan) {
    return plan.views().stream().anyMatch(v -> v.slots().size() > ServiceCompiler.MAX_SLOTS);
  }

  // ---- 2. admission ----

  /**
   * Whether every plan fits the maps even if nothing were shared, and the backends the changed
   * plans add fit next to those the maps hold now (the writer adds before it deletes): then
   * {@link ServiceCompiler#admit} rejects no Service for capacity, and only address conflicts
   * remain.
   */
  private boolean demandFits(Set<ServiceKey> touchedKeys) {
    int lbMapMax = config.lbMapMax();
    if (oversizedPlans != 0 || demandEntries > lbMapMax || demandBackends > lbMapMax
        || demandFrontends > Math.min(lbMapMax, ServiceIds.MAX_REV_NAT_ID)) {
      return false;
    }
    long added = 0;
    // after a whole admission every Service is looked at again: one skipped then may come in now
    for (ServiceKey key : lastAdmissionWhole ? planned.keySet() : touchedKeys) {
      Planned p = planned.get(key);
      if (p != null && p.plan().isPresent()) {
        added += p.plan().get().backendStates().keySet().stream()
            .filter(b -> !backendIds.slots().containsKey(b)).count();
      }
    }
    return backendIds.slots().size() + added <= lbMapMax;
  }

  /**
   * Admission when everything fits: every planned Service is admitted, each frontend address
   * (healthCheckNodePort) going to the first of its listers in admission order. Only Services
   * that changed, share an address with one that changed, or share any address at all (the order
   * depends on what was programmed) are looked at again.
   */
  private Map<ServiceKey, ServicePlan> admitByAddress(Set<ServiceKey> touchedKeys,
      Set<FrontendAddress> touchedAddresses, Set<Integer> touchedHealthChecks,
      Predicate<FrontendAddress> programmed) {
    Set<ServiceKey> affected = new HashSet<>(touchedKeys);
    if (lastAdmissionWhole) {
      affected.addAll(planned.keySet());
      affected.addAll(admitted.keySet());
      wholeAdmissionProblems = List.of();
      lastAdmissionWhole = false;
    }
    for (FrontendAddress a : touchedAddresses) {
      affected.addAll(listers.getOrDefault(a, List.of()));
    }
    for (Integer port : touchedHealthChecks) {
      affected.addAll(healthCheckListers.getOrDefault(port, List.of()));
    }
    contested.forEach(a -> affected.addAll(listers.get(a)));
    contestedHealthChecks.forEach(p -> affected.addAll(healthCheckListers.get(p)));

    Comparator<ServicePlan> order = ServiceCompiler.admissionOrder(programmed);
    Map<ServiceKey, ServicePlan> out = new HashMap<>();
    for (ServiceKey key : affected) {
      Planned p = planned.get(key);
      if (p == null || p.plan().isEmpty()) {
        out.put(key, null);
        admissionProblems.remove(key);
        continue;
      }
      List<Problem> problems = new ArrayList<>();
      out.put(key, admitOne(p.plan().get(), order, problems));
      if (problems.isEmpty()) {
        admissionProblems.remove(key);
      } else {
        admissionProblems.put(key, List.copyOf(problems));
      }
    }
    return out;
  }

  /** One Service's admitted plan: without what earlier listers of its addresses claim. */
  private ServicePlan admitOne(ServicePlan plan, Comparator<ServicePlan> order,
      List<Problem> problems) {
    List<FrontendView> kept = new ArrayList<>();
    Set<FrontendAddress> reported = new HashSet<>();
    for (FrontendView view : plan.views()) {
      ServicePlan owner = first(listers.get(view.address()), order);
      if (owner == plan) {
        kept.add(view);
      } else if (reported.add(view.address())) {
        problems.add(ServiceCompiler.frontendTaken(plan, view, owner.service()));
      }
    }
    ServicePlan admittedPlan = kept.size() == plan.views().size() ? plan : plan.withViews(kept);
    if (plan.healthCheckNodePort().isPresent()) {
      int port = plan.healthCheckNodePort().get();
      ServicePlan owner = first(healthCheckListers.get(port), order);
      if (owner != plan) {
        problems.add(ServiceCompiler.healthCheckTaken(plan, port, owner.service()));
        admittedPlan = ServiceCompiler.withoutHealthCheck(admittedPlan);
      }
    }
    return admittedPlan;
  }

  private ServicePlan first(List<ServiceKey> keys, Comparator<ServicePlan> order) {
    ServicePlan best = null;
    for (ServiceKey key : keys) {
      ServicePlan candidate = planned.get(key).plan().orElseThrow();
      if (best == null || order.compare(candidate, best) < 0) {
        best = candidate;
      }
    }
    return best;
  }

  /** Admission under capacity pressure: {@link ServiceCompiler#admit} over every cached plan. */
  private Map<ServiceKey, ServicePlan> admitWhole(Predicate<FrontendAddress> programmed) {
    List<ServicePlan> plans = new ArrayList<>();
    planned.values().forEach(p -> p.plan().ifPresent(plans::add));
    List<Problem> problems = new ArrayList<>();
    Map<ObjectRef, ServicePlan> lastAdmitted = new HashMap<>();
    admitted.values().forEach(plan -> lastAdmitted.put(plan.service(), plan));
    List<ServicePlan> admittedPlans = ServiceCompiler.admit(plans, config, programmed,
        lastAdmitted, problems);
    Map<ServiceKey, ServicePlan> out = new HashMap<>();
    admitted.keySet().forEach(key -> out.put(key, null));
    for (ServicePlan plan : admittedPlans) {
      out.put(new ServiceKey(plan.service().namespace(), plan.service().name()), plan);
    }
    admissionProblems.clear();
    wholeAdmissionProblems = List.copyOf(problems);
    lastAdmissionWhole = true;
    return out;
  }

  // ---- 3. ids ----

  /**
   * Moves the backend and frontend references from the old to the new admitted plans of {@code
   * changed}, releases the ids nothing references any more and allocates ids for what is new.
   */
  private void allocateIds(Set<ServiceKey> changed, Map<ServiceKey, ServicePlan> newlyAdmitted,
      ChangeSet out) {
    for (ServiceKey key : changed) {
      ServicePlan before = admitted.get(key);
      ServicePlan after = newlyAdmitted.get(key);
      if (before != null) {
        reference(before, -1, out);
      }
      if (after != null) {
        reference(after, +1, out);
      }
    }
    List<BackendAddress> newBackends = new ArrayList<>();
    for (BackendAddress b : out.touchedBackends) {
      IdPool.Slot slot = backendIds.slot(b);
      if (slot == null || slot.unused()) {
        Long id = backendIds.idOf(b);
        if (id != null) {
          out.backendDeletes.add(id);
        }
        backendIds.release(b);
      } else if (backendIds.idOf(b) == null) {
        newBackends.add(b);
      }
    }
    List<FrontendAddress> newFrontends = new ArrayList<>();
    for (FrontendAddress f : out.touchedFrontends) {
      IdPool.Slot slot = revNatIds.slot(f);
      if (slot == null || slot.unused()) {
        revNatIds.release(f);
      } else if (revNatIds.idOf(f) == null) {
        newFrontends.add(f);
      }
    }
    if (sweepIds) {
      // Ids adopted from the maps for things nothing wants any more.
      sweep(backendIds);
      sweep(revNatIds);
      sweepIds = false;
    }
    Collections.sort(newBackends);
    Collections.sort(newFrontends);
    backendIds.allocate(newBackends);
    revNatIds.allocate(newFrontends);
    for (BackendAddress b : out.touchedBackends) {
      IdPool.Slot slot = backendIds.slot(b);
      if (slot != null) {
        out.backendUpserts.put(backendIds.idOf(b), backendEntry(b, slot));
      }
    }
  }

  private static <K extends Comparable<K>> void sweep(IdPool<K> pool) {
    List<K> unused = pool.slots().entrySet().stream().filter(e -> e.getValue().unused())
        .map(Map.Entry::getKey).toList();
    unused.forEach(pool::release);
  }

  private void reference(ServicePlan plan, int delta, ChangeSet out) {
    plan.backendStates().forEach((backend, state) -> {
      IdPool.Slot slot = backendIds.use(backend);
      if (state == Lb4Backend.STATE_ACTIVE) {
        slot.primary += delta;
      } else {
        slot.secondary += delta;
      }
      out.touchedBackends.add(backend);
    });
    for (FrontendAddress f : plan.frontendAddresses()) {
      revNatIds.use(f).primary += delta;
      out.touchedFrontends.add(f);
    }
  }

  // ---- 4. entries ----

  private void unrender(ServiceKey key, ChangeSet out) {
    RenderedService before = rendered.remove(key);
    if (before == null) {
      return;
    }
    serviceEntries -= before.entries().size();
    revNatEntries -= before.revNat().size();
    for (Lb4Key k : before.entries().keySet()) {
      out.serviceDeletes.add(k);
      out.serviceUpserts.remove(k);
    }
    for (Integer id : before.revNat().keySet()) {
      out.revNatDeletes.add(id);
      out.revNatUpserts.remove(id);
    }
    before.healthCheck().ifPresent(hc -> healthChecks.remove(hc.getKey(), hc.getValue()));
  }

  private void render(ServiceKey key, ServicePlan plan, ChangeSet out) {
    RenderedService r = ServiceCompiler.render(plan, f -> revNatIds.idOf(f).intValue(),
        b -> backendIds.idOf(b));
    rendered.put(key, r);
    serviceEntries += r.entries().size();
    revNatEntries += r.revNat().size();
    r.entries().forEach((k, v) -> {
      out.serviceUpserts.put(k, v);
      out.serviceDeletes.remove(k);
    });
    r.revNat().forEach((id, v) -> {
      out.revNatUpserts.put(id, v);
      out.revNatDeletes.remove(id);
    });
    r.healthCheck().ifPresent(hc -> healthChecks.put(hc.getKey(), hc.getValue()));
  }

  private List<Problem> problems(List<Problem> nodeProblems, List<Problem> unkeyedProblems) {
    List<Problem> all = new ArrayList<>(nodeProblems);
    all.addAll(unkeyedProblems);
    planned.values().forEach(p -> all.addAll(p.problems()));
    admissionProblems.values().forEach(all::addAll);
    all.addAll(wholeAdmissionProblems);
    return List.copyOf(all);
  }

  /** The changes of one pass as they accumulate. */
  private static final class ChangeSet {
    final Set<BackendAddress> touchedBackends = new HashSet<>();
    final Set<FrontendAddress> touchedFrontends = new HashSet<>();
    final Map<Lb4Key, Lb4Service> serviceUpserts = new HashMap<>();
    final Set<Lb4Key> serviceDeletes = new HashSet<>();
    final Map<Long, Lb4Backend> backendUpserts = new HashMap<>();
    final Set<Long> backendDeletes = new HashSet<>();
    final Map<Integer, Lb4ReverseNat> revNatUpserts = new HashMap<>();
    final Set<Integer> revNatDeletes = new HashSet<>();

    LbChanges changes() {
      return new LbChanges(serviceUpserts, serviceDeletes, backendUpserts, backendDeletes,
          revNatUpserts, revNatDeletes);
    }
  }
}
