package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What kube-scheduler and kube-controller-manager do, for the lab: schedule pods to lab nodes,
 * expand Deployments into ReplicaSets and pods (and collect what their owners left), allocate
 * ClusterIPs and NodePorts, and keep EndpointSlices in step with pods. Each pass lists the API
 * and acts on the difference; the decisions are the pure {@link DeploymentExpander},
 * {@link Allocators} and {@link SliceDesign}. Against a real API server ({@code embedded} false)
 * only what a cluster does not do itself runs: nothing but the lab kubelet, since a real API
 * server allocates addresses and its controller-manager runs the rest.
 */
final class LabControllers {
  private static final Logger LOG = LoggerFactory.getLogger(LabControllers.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KubernetesClient client;
  private final List<String> nodes;
  private final int nodePortFirst;
  private final int nodePortLast;
  private final Supplier<String> suffix;

  LabControllers(KubernetesClient client, List<String> nodes, int nodePortFirst, int nodePortLast) {
    this.client = client;
    this.nodes = List.copyOf(nodes);
    this.nodePortFirst = nodePortFirst;
    this.nodePortLast = nodePortLast;
    this.suffix = () -> {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < 5; i++) {
        s.append(DeploymentExpander.ALPHABET.charAt(RANDOM.nextInt(DeploymentExpander.ALPHABET.length())));
      }
      return s.toString();
    };
  }

  /** One pass; each step on its own, so one failing object does not stop the others. */
  void sync() {
    step("services", this::allocateServiceAddresses);
    step("deployments", this::deployments);
    step("scheduler", this::schedule);
    step("endpointslices", this::endpointSlices);
  }

  private void step(String name, Runnable work) {
    try {
      work.run();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) { // a conflict is retried next pass
        LOG.warn("lab controllers, {}: {}", name, e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.warn("lab controllers, {}: {}", name, e.toString());
    }
  }

  /** ClusterIPs from {@value Allocators#SERVICE_CIDR} and NodePorts from node-port-range. */
  void allocateServiceAddresses() {
    List<Service> services = client.services().inAnyNamespace().list().getItems();
    Set<String> usedIps = new HashSet<>();
    Set<Integer> usedPorts = new HashSet<>();
    for (Service s : services) {
      Optional.ofNullable(s.getSpec().getClusterIP()).ifPresent(usedIps::add);
      ports(s).stream().map(ServicePort::getNodePort).filter(Objects::nonNull).forEach(usedPorts::add);
    }
    for (Service s : services) {
      String type = Objects.requireNonNullElse(s.getSpec().getType(), "ClusterIP");
      if (type.equals("ExternalName")) {
        continue;
      }
      boolean needsIp = s.getSpec().getClusterIP() == null || s.getSpec().getClusterIP().isEmpty();
      boolean wantsNodePorts = type.equals("NodePort") || type.equals("LoadBalancer");
      boolean needsPorts = wantsNodePorts && ports(s).stream().anyMatch(p -> p.getNodePort() == null);
      if (!needsIp && !needsPorts) {
        continue;
      }
      ServiceBuilder b = new ServiceBuilder(s);
      if (needsIp) {
        String ip = Allocators.clusterIp(Allocators.SERVICE_CIDR, usedIps).orElseThrow(
            () -> new IllegalStateException("service CIDR " + Allocators.SERVICE_CIDR + " is full"));
        usedIps.add(ip);
        b.editSpec().withClusterIP(ip).withClusterIPs(ip).withType(type).endSpec();
      }
      if (needsPorts) {
        List<ServicePort> withPorts = new ArrayList<>();
        for (ServicePort p : ports(s)) {
          if (p.getNodePort() == null) {
            int port = Allocators.nodePort(nodePortFirst, nodePortLast, usedPorts).orElseThrow(
                () -> new IllegalStateException("node-port-range is exhausted"));
            usedPorts.add(port);
            p = new io.fabric8.kubernetes.api.model.ServicePortBuilder(p).withNodePort(port).build();
          }
          withPorts.add(p);
        }
        b.editSpec().withPorts(withPorts).endSpec();
      }
      client.services().inNamespace(s.getMetadata().getNamespace()).resource(b.build()).update();
    }
  }

  /** Deployments -> ReplicaSets -> pods, and garbage collection of orphans. */
  void deployments() {
    List<Deployment> deployments = client.apps().deployments().inAnyNamespace().list().getItems();
    List<ReplicaSet> replicaSets = client.apps().replicaSets().inAnyNamespace().list().getItems();
    List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
    for (Deployment d : deployments) {
      if (d.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String ns = d.getMetadata().getNamespace();
      List<ReplicaSet> owned = replicaSets.stream()
          .filter(rs -> ns.equals(rs.getMetadata().getNamespace()))
          .filter(rs -> DeploymentExpander.isOwnedBy(rs, d)).toList();
      List<Pod> inNs = pods.stream().filter(p -> ns.equals(p.getMetadata().getNamespace())).toList();
      DeploymentExpander.Plan plan = DeploymentExpander.plan(d, owned, inNs, suffix);
      if (plan.replicaSet() != null) {
        client.apps().replicaSets().inNamespace(ns).resource(plan.replicaSet()).createOr(
            op -> op.update());
      }
      plan.createPods().forEach(p -> client.pods().inNamespace(ns).resource(p).create());
      plan.deletePods().forEach(n -> client.pods().inNamespace(ns).withName(n).delete());
      plan.deleteReplicaSets().forEach(n -> client.apps().replicaSets().inNamespace(ns)
          .withName(n).delete());
      int ready = (int) owned.stream().flatMap(rs -> DeploymentExpander.ownedBy(inNs, rs).stream())
          .filter(SliceDesign::ready).count();
      if (d.getStatus() == null || !Objects.equals(d.getStatus().getReadyReplicas(), ready)
          || !Objects.equals(d.getStatus().getReplicas(), d.getSpec().getReplicas())) {
        client.apps().deployments().inNamespace(ns).withName(d.getMetadata().getName())
            .editStatus(cur -> new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder(cur)
                .editOrNewStatus().withReplicas(cur.getSpec().getReplicas())
                .withReadyReplicas(ready).withAvailableReplicas(ready)
                .withUpdatedReplicas(cur.getSpec().getReplicas()).endStatus().build());
      }
    }
    // The garbage collector: ReplicaSets without their Deployment, pods without their ReplicaSet.
    for (ReplicaSet rs : replicaSets) {
      if (ownerGone(rs, "Deployment", deployments)) {
        client.apps().replicaSets().inNamespace(rs.getMetadata().getNamespace()).resource(rs).delete();
      }
    }
    List<ReplicaSet> liveRs = client.apps().replicaSets().inAnyNamespace().list().getItems();
    for (Pod p : pods) {
      if (p.getMetadata().getDeletionTimestamp() == null && ownerGone(p, "ReplicaSet", liveRs)) {
        client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
            .delete();
      }
    }
  }

  private static boolean ownerGone(io.fabric8.kubernetes.api.model.HasMetadata o, String kind,
      List<? extends io.fabric8.kubernetes.api.model.HasMetadata> owners) {
    var refs = o.getMetadata().getOwnerReferences();
    if (refs == null) {
      return false;
    }
    return refs.stream().filter(r -> kind.equals(r.getKind())).anyMatch(r -> owners.stream()
        .noneMatch(w -> w.getMetadata().getName().equals(r.getName())
            && Objects.equals(w.getMetadata().getNamespace(), o.getMetadata().getNamespace())));
  }

  /** Pods without a node go to the lab node with the fewest pods. */
  void schedule() {
    List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
    Map<String, Integer> load = new HashMap<>();
    nodes.forEach(n -> load.put(n, 0));
    pods.stream().map(p -> p.getSpec().getNodeName()).filter(load::containsKey)
        .forEach(n -> load.merge(n, 1, Integer::sum));
    for (Pod p : pods) {
      if (p.getSpec().getNodeName() != null && !p.getSpec().getNodeName().isEmpty()
          || p.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String node = load.entrySet().stream().min(Map.Entry.<String, Integer>comparingByValue()
          .thenComparing(Map.Entry.comparingByKey())).orElseThrow().getKey();
      load.merge(node, 1, Integer::sum);
      client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
          .edit(cur -> new PodBuilder(cur).editSpec().withNodeName(node).endSpec().build());
    }
  }

  /** Every Service with a selector gets the slices {@link SliceDesign} designs; stale ones go. */
  void endpointSlices() {
    List<Service> services = client.services().inAnyNamespace().list().getItems();
    List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
    List<EndpointSlice> existing = client.discovery().v1().endpointSlices().inAnyNamespace()
        .withLabel(SliceDesign.MANAGED_BY_LABEL, SliceDesign.MANAGED_BY).list().getItems();
    Map<String, EndpointSlice> byKey = new HashMap<>();
    existing.forEach(s -> byKey.put(s.getMetadata().getNamespace() + "/" + s.getMetadata().getName(), s));
    Set<String> wanted = new HashSet<>();
    for (Service svc : services.stream().sorted(Comparator.comparing(s -> s.getMetadata().getName())).toList()) {
      for (EndpointSlice desired : SliceDesign.desired(svc, pods)) {
        String key = desired.getMetadata().getNamespace() + "/" + desired.getMetadata().getName();
        wanted.add(key);
        EndpointSlice current = byKey.get(key);
        var slices = client.discovery().v1().endpointSlices()
            .inNamespace(desired.getMetadata().getNamespace());
        if (current == null) {
          slices.resource(desired).create();
        } else if (!SliceDesign.sameContent(current, desired)) {
          slices.resource(new EndpointSliceBuilder(desired).editMetadata()
              .withResourceVersion(current.getMetadata().getResourceVersion()).endMetadata()
              .build()).update();
        }
      }
    }
    for (Map.Entry<String, EndpointSlice> e : byKey.entrySet()) {
      if (!wanted.contains(e.getKey())) {
        client.discovery().v1().endpointSlices().inNamespace(e.getValue().getMetadata().getNamespace())
            .withName(e.getValue().getMetadata().getName()).delete();
      }
    }
  }

  private static List<ServicePort> ports(Service s) {
    return s.getSpec().getPorts() == null ? List.of() : s.getSpec().getPorts();
  }
}
