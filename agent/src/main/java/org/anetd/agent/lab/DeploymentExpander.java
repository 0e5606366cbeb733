package org.anetd.agent.lab;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Deployment -> ReplicaSet -> pods, as the deployment and replicaset controllers do it (pure).
 * The ReplicaSet is named {@code <deployment>-<pod-template-hash>}, its pods
 * {@code <replicaset>-<5 random characters>}; labels carry {@code pod-template-hash} and every
 * object points to its owner. A changed template gets a new ReplicaSet and the old ones' pods are
 * deleted (a "Recreate" rollout: the lab has no rollout pacing).
 */
public final class DeploymentExpander {
  public static final String HASH_LABEL = "pod-template-hash";
  /** Kubernetes' rand.SafeEncodeString alphabet: no vowels, no look-alikes. */
  static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

  private DeploymentExpander() {}

  /**
   * What to do for one Deployment.
   *
   * @param replicaSet the ReplicaSet to create, or null when it exists with the right replicas
   * @param createPods pods to create (only once the ReplicaSet exists: they carry its uid)
   * @param deletePods names of pods to delete (surplus, or of old ReplicaSets)
   * @param deleteReplicaSets names of ReplicaSets of older templates
   */
  public record Plan(ReplicaSet replicaSet, List<Pod> createPods, List<String> deletePods,
      List<String> deleteReplicaSets) {
    public boolean isEmpty() {
      return replicaSet == null && createPods.isEmpty() && deletePods.isEmpty()
          && deleteReplicaSets.isEmpty();
    }
  }

  /**
   * @param replicaSets the ReplicaSets this Deployment owns
   * @param pods the pods of the Deployment's namespace
   * @param suffix random pod name suffixes (5 characters of {@link #ALPHABET})
   */
  public static Plan plan(Deployment d, List<ReplicaSet> replicaSets, List<Pod> pods,
      Supplier<String> suffix) {
    String hash = templateHash(d.getSpec().getTemplate());
    String rsName = d.getMetadata().getName() + "-" + hash;
    int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    ReplicaSet current = replicaSets.stream().filter(rs -> rsName.equals(rs.getMetadata().getName()))
        .findFirst().orElse(null);

    List<String> deletePods = new ArrayList<>();
    List<String> deleteReplicaSets = new ArrayList<>();
    for (ReplicaSet old : replicaSets) {
      if (!rsName.equals(old.getMetadata().getName())) {
        deleteReplicaSets.add(old.getMetadata().getName());
        ownedBy(pods, old).forEach(p -> deletePods.add(p.getMetadata().getName()));
      }
    }
    ReplicaSet desired = replicaSet(d, rsName, hash, replicas);
    if (current == null) {
      return new Plan(desired, List.of(), deletePods, deleteReplicaSets);
    }
    ReplicaSet update = Objects.equals(current.getSpec().getReplicas(), replicas) ? null
        : new ReplicaSetBuilder(current).editSpec().withReplicas(replicas).endSpec().build();

    List<Pod> live = ownedBy(pods, current).stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
    List<Pod> create = new ArrayList<>();
    for (int i = live.size(); i < replicas; i++) {
      create.add(pod(current, hash, suffix.get()));
    }
    for (int i = live.size() - 1; i >= replicas; i--) {
      deletePods.add(live.get(i).getMetadata().getName()); // newest names last, like any order
    }
    return new Plan(update, create, deletePods, deleteReplicaSets);
  }

  /** Kubernetes-style pod-template-hash: FNV-1a of the template, safe-encoded. */
  public static String templateHash(PodTemplateSpec template) {
    byte[] bytes = Serialization.asJson(template).getBytes(StandardCharsets.UTF_8);
    int h = 0x811c9dc5;
    for (byte b : bytes) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    String decimal = Long.toString(Integer.toUnsignedLong(h));
    StringBuilder out = new StringBuilder();
    for (char c : decimal.toCharArray()) {
      out.append(ALPHABET.charAt(c % ALPHABET.length()));
    }
    return out.toString();
  }

  /** Pods whose controller owner is {@code owner} (by uid, or by kind and name). */
  public static List<Pod> ownedBy(List<Pod> pods, HasMetadata owner) {
    return pods.stream().filter(p -> isOwnedBy(p, owner)).toList();
  }

  public static boolean isOwnedBy(HasMetadata o, HasMetadata owner) {
    List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
    return refs != null && refs.stream().anyMatch(r -> owner.getKind().equals(r.getKind())
        && owner.getMetadata().getName().equals(r.getName())
        && (r.getUid() == null || owner.getMetadata().getUid() == null
            || r.getUid().equals(owner.getMetadata().getUid())));
  }

  private static ReplicaSet replicaSet(Deployment d, String name, String hash, int replicas) {
    Map<String, String> labels = new HashMap<>(labels(d.getSpec().getTemplate()));
    labels.put(HASH_LABEL, hash);
    Map<String, String> selector = new HashMap<>(d.getSpec().getSelector() == null
        || d.getSpec().getSelector().getMatchLabels() == null ? labels(d.getSpec().getTemplate())
        : d.getSpec().getSelector().getMatchLabels());
    selector.put(HASH_LABEL, hash);
    PodTemplateSpec template = new PodTemplateSpecBuilder(d.getSpec().getTemplate())
        .editOrNewMetadata().withLabels(labels).endMetadata().build();
    return new ReplicaSetBuilder().withNewMetadata().withNamespace(d.getMetadata().getNamespace())
        .withName(name).withLabels(labels).withOwnerReferences(owner(d)).endMetadata()
        .withNewSpec().withReplicas(replicas)
        .withSelector(new LabelSelectorBuilder().withMatchLabels(selector).build())
        .withTemplate(template).endSpec().build();
  }

  private static Pod pod(ReplicaSet rs, String hash, String suffix) {
    PodTemplateSpec t = rs.getSpec().getTemplate();
    Map<String, String> labels = new HashMap<>(labels(t));
    labels.put(HASH_LABEL, hash);
    return new PodBuilder().withNewMetadata().withNamespace(rs.getMetadata().getNamespace())
        .withName(rs.getMetadata().getName() + "-" + suffix).withLabels(labels)
        .withAnnotations(t.getMetadata() == null ? null : t.getMetadata().getAnnotations())
        .withOwnerReferences(owner(rs)).endMetadata().withSpec(t.getSpec()).build();
  }

  private static OwnerReference owner(HasMetadata o) {
    return new OwnerReferenceBuilder().withApiVersion(o.getApiVersion()).withKind(o.getKind())
        .withName(o.getMetadata().getName()).withUid(o.getMetadata().getUid())
        .withController(true).withBlockOwnerDeletion(true).build();
  }

  private static Map<String, String> labels(PodTemplateSpec t) {
    return t.getMetadata() == null || t.getMetadata().getLabels() == null ? Map.of()
        : t.getMetadata().getLabels();
  }
}
