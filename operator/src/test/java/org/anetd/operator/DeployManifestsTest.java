package org.anetd.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.anetd.operator.api.NetworkLogging;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests under deploy/: every document parses into a typed object with no unknown field,
 * the DaemonSet keeps the invariants the agent relies on, RBAC grants no wildcard, and the
 * committed CRD is the generated one.
 */
class DeployManifestsTest {
  static final String GENERATED_CRD = NetworkLoggingReconcilerMockTest.GENERATED_CRD;
  static final String COMMITTED_CRD = "crds/networkloggings.networking.gke.io.yaml";
  static final String NS = "kube-system";
  static final String IMAGE = "anetd:0.1.0";

  static Path deployDir;
  static List<HasMetadata> objects;

  @BeforeAll
  static void parseAll() throws IOException {
    deployDir = Path.of(System.getProperty("anetd.deploy.dir", "../deploy"));
    KubernetesSerialization serialization = new KubernetesSerialization();
    objects = new ArrayList<>();
    for (Path file : yamlFiles()) {
      String text = Files.readString(file);
      int n = 0;
      for (String doc : text.split("(?m)^---\\s*$")) {
        n++;
        if (doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
          continue;
        }
        String where = deployDir.relativize(file) + " document " + n;
        Object parsed;
        try {
          parsed = serialization.unmarshal(doc);
        } catch (RuntimeException e) {
          throw new AssertionError(where + " does not parse: " + e.getMessage(), e);
        }
        if (!(parsed instanceof HasMetadata o) || parsed instanceof GenericKubernetesResource) {
          throw new AssertionError(where + " is not a known kind: " + parsed);
        }
        List<String> unknown = new ArrayList<>();
        unknownFields(o, o.getKind(), unknown);
        assertThat(unknown).as(where + ": fields the API does not have").isEmpty();
        objects.add(o);
      }
    }
  }

  static List<Path> yamlFiles() throws IOException {
    try (Stream<Path> files = Files.walk(deployDir)) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted().toList();
    }
  }

  @Test
  void everyKindTheInstallNeedsIsThere() {
    assertThat(objects).extracting(HasMetadata::getKind).contains(
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap",
        "DaemonSet", "Deployment", "CustomResourceDefinition");
    assertThat(all(ServiceAccount.class)).extracting(sa -> sa.getMetadata().getName())
        .containsExactlyInAnyOrder("anetd", "anetd-operator");
  }

  @Test
  void namespacedObjectsLiveInKubeSystem() {
    objects.stream()
        .filter(o -> !(o instanceof ClusterRole || o instanceof ClusterRoleBinding
            || o instanceof CustomResourceDefinition))
        .forEach(o -> assertThat(o.getMetadata().getNamespace())
            .as(o.getKind() + "/" + o.getMetadata().getName()).isEqualTo(NS));
  }

  @Test
  void daemonSetKeepsTheAgentsInvariants() {
    DaemonSet ds = one(DaemonSet.class, "anetd");
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    Container agent = container(pod.getContainers(), "anetd");

    assertThat(ds.getMetadata().getLabels()).containsEntry("k8s-app", "cilium");
    assertThat(ds.getSpec().getSelector().getMatchLabels()).containsEntry("k8s-app", "cilium");
    assertThat(ds.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("k8s-app", "cilium");
    assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", "9962");
    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getServiceAccountName()).isEqualTo("anetd");
    assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
    assertThat(pod.getTolerations()).anySatisfy(t -> {
      assertThat(t.getOperator()).isEqualTo("Exists");
      assertThat(t.getKey()).isNull();
      assertThat(t.getEffect()).isNull();
    });

    assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
    assertThat(agent.getArgs()).containsExactly(
        "agent", "--node-name", "$(NODE_NAME)", "--config-dir", "/etc/anetd/config");
    assertThat(agent.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("NODE_NAME");
      assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
    });
    assertThat(agent.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(agent.getLivenessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(9879);
    assertThat(agent.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(agent.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(9879);
    assertThat(agent.getPorts()).extracting(p -> p.getContainerPort()).contains(9879, 9962);

    Map<String, VolumeMount> mounts = mountsByPath(agent);
    assertThat(mounts.get("/sys/fs/bpf").getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(hostPath(pod, mounts.get("/sys/fs/bpf"))).isEqualTo("/sys/fs/bpf");
    assertThat(hostPath(pod, mounts.get("/var/run/anetd"))).isEqualTo("/var/run/anetd");
    assertThat(hostPath(pod, mounts.get("/var/lib/anetd"))).isEqualTo("/var/lib/anetd");
    assertThat(hostPath(pod, mounts.get("/var/log/network"))).isEqualTo("/var/log/network");
    assertThat(hostPath(pod, mounts.get("/host/proc/sys/net"))).isEqualTo("/proc/sys/net");
    assertThat(hostPath(pod, mounts.get("/run/anetd/cgroup"))).isEqualTo("/sys/fs/cgroup");
    assertThat(mounts.get("/host/proc/sys/net").getReadOnly()).isTrue();
    VolumeMount config = mounts.get("/etc/anetd/config");
    assertThat(volume(pod, config.getName()).getConfigMap().getName()).isEqualTo("cilium-config");
    assertThat(config.getSubPath()).as("mounted as a directory, so edits reach the agent").isNull();
  }

  @Test
  void initContainerInstallsTheCniPluginAndConfig() {
    PodSpec pod = one(DaemonSet.class, "anetd").getSpec().getTemplate().getSpec();
    Container init = container(pod.getInitContainers(), "install-cni");
    Map<String, VolumeMount> mounts = mountsByPath(init);
    String script = String.join("\n", init.getArgs());

    assertThat(hostPath(pod, mounts.get("/host/opt/cni/bin"))).isEqualTo("/opt/cni/bin");
    assertThat(hostPath(pod, mounts.get("/host/etc/cni/net.d"))).isEqualTo("/etc/cni/net.d");
    assertThat(script).contains("/host/opt/cni/bin/anetd-cni")
        .contains("/host/etc/cni/net.d/05-anetd.conflist")
        .contains("\"type\": \"anetd-cni\"");
  }

  /**
   * Runtimes call STATUS and GC only for a 1.1.0 network; a runtime too old for 1.1.0 reads
   * cniVersion and skips a cniVersions it does not know (spec 1.1).
   */
  @Test
  void cniConfigOffersSpecOneOneAndStaysReadableForOlderRuntimes() throws IOException {
    PodSpec pod = one(DaemonSet.class, "anetd").getSpec().getTemplate().getSpec();
    String script = String.join("\n", container(pod.getInitContainers(), "install-cni").getArgs());
    String conflist = script.substring(script.indexOf("<<'CONF'\n") + "<<'CONF'\n".length(),
        script.indexOf("\nCONF\n"));

    JsonNode config = new ObjectMapper().readTree(conflist);

    assertThat(config.path("cniVersion").asText()).isEqualTo("1.0.0");
    assertThat(config.path("cniVersions")).extracting(JsonNode::asText)
        .containsExactly("1.0.0", "1.1.0");
  }

  @Test
  void everyMountHasAVolume() {
    for (HasMetadata o : objects) {
      PodSpec pod = o instanceof DaemonSet ds ? ds.getSpec().getTemplate().getSpec()
          : o instanceof Deployment d ? d.getSpec().getTemplate().getSpec() : null;
      if (pod == null) {
        continue;
      }
      Stream.concat(pod.getContainers().stream(), pod.getInitContainers().stream())
          .forEach(c -> {
            assertThat(c.getImage()).as(c.getName() + " image").isEqualTo(IMAGE);
            c.getVolumeMounts().forEach(m -> volume(pod, m.getName()));
          });
    }
  }

  @Test
  void operatorRunsOneReplicaAsItsOwnServiceAccount() {
    Deployment d = one(Deployment.class, "anetd-operator");
    Container c = container(d.getSpec().getTemplate().getSpec().getContainers(), "operator");

    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("anetd-operator");
    assertThat(c.getCommand()).contains("/usr/lib/anetd/anetd-operator.jar");
    assertThat(c.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("ANETD_OPERATOR_LEADER_ELECTION");
      assertThat(e.getValue()).isEqualTo("false");
    });
  }

  @Test
  void rbacGrantsNoWildcard() {
    List<PolicyRule> rules = new ArrayList<>();
    all(ClusterRole.class).forEach(r -> rules.addAll(r.getRules()));
    all(Role.class).forEach(r -> rules.addAll(r.getRules()));

    assertThat(rules).isNotEmpty().allSatisfy(rule -> {
      assertThat(rule.getVerbs()).isNotEmpty().doesNotContain("*");
      assertThat(rule.getResources()).isNotEmpty().doesNotContain("*");
      assertThat(rule.getApiGroups()).doesNotContain("*");
      assertThat(rule.getNonResourceURLs()).isEmpty();
    });
  }

  @Test
  void agentMayReadWhatItCompilesAndNothingMore() {
    List<PolicyRule> rules = one(ClusterRole.class, "anetd").getRules();

    assertGrants(rules, "", "services", "get", "list", "watch");
    assertGrants(rules, "", "pods", "get", "list", "watch");
    assertGrants(rules, "", "namespaces", "get", "list", "watch");
    assertGrants(rules, "", "nodes", "get", "list", "watch");
    assertGrants(rules, "discovery.k8s.io", "endpointslices", "get", "list", "watch");
    assertGrants(rules, "networking.k8s.io", "networkpolicies", "get", "list", "watch");
    assertGrants(rules, NetworkLogging.GROUP, "networkloggings", "get", "list", "watch");
    assertGrants(rules, "", "events", "get", "create", "patch");
    assertGrants(rules, "events.k8s.io", "events", "get", "create", "patch");
    assertThat(rules).filteredOn(r -> r.getResources().contains("events"))
        .as("the agent reads an Event back, creates it, patches a repeat; it never updates one")
        .flatExtracting(PolicyRule::getVerbs).containsOnly("get", "create", "patch");
    assertThat(rules).flatExtracting(PolicyRule::getVerbs)
        .as("the agent writes nothing but Events")
        .containsOnly("get", "list", "watch", "create", "patch");
    assertThat(rules).filteredOn(r -> r.getVerbs().contains("create"))
        .flatExtracting(PolicyRule::getResources).containsOnly("events");
    assertGrants(one(Role.class, "anetd-config").getRules(), "", "configmaps", "get");
  }

  @Test
  void operatorMayWriteOnlyNetworkLoggingStatusAndEvents() {
    List<PolicyRule> rules = one(ClusterRole.class, "anetd-operator").getRules();

    assertGrants(rules, NetworkLogging.GROUP, "networkloggings", "get", "list", "watch");
    assertGrants(rules, NetworkLogging.GROUP, "networkloggings/status", "patch");
    assertGrants(rules, "", "events", "get", "create", "patch");
    assertThat(rules).filteredOn(r -> r.getResources().contains("networkloggings"))
        .flatExtracting(PolicyRule::getVerbs).containsOnly("get", "list", "watch");
    assertGrants(one(Role.class, "anetd-operator").getRules(), "", "configmaps",
        "get", "list", "watch");
    assertThat(one(Role.class, "anetd-operator").getRules())
        .filteredOn(r -> r.getResources().contains("configmaps"))
        .flatExtracting(PolicyRule::getVerbs).containsOnly("get", "list", "watch");
  }

  @Test
  void bindingsNameExistingRolesAndServiceAccounts() {
    List<String> accounts = all(ServiceAccount.class).stream()
        .map(sa -> sa.getMetadata().getNamespace() + "/" + sa.getMetadata().getName()).toList();
    for (ClusterRoleBinding b : all(ClusterRoleBinding.class)) {
      one(ClusterRole.class, b.getRoleRef().getName());
      assertThat(subjects(b.getSubjects())).isSubsetOf(accounts);
    }
    for (RoleBinding b : all(RoleBinding.class)) {
      one(Role.class, b.getRoleRef().getName());
      assertThat(subjects(b.getSubjects())).isSubsetOf(accounts);
    }
    assertThat(all(ClusterRoleBinding.class)).hasSize(2);
    assertThat(all(RoleBinding.class)).hasSize(2);
  }

  @Test
  void ciliumConfigHoldsTheDefaultsAndPassesTheOperatorsCheck() {
    ConfigMap cm = one(ConfigMap.class, "cilium-config");

    assertThat(cm.getData()).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
        Map.entry("kube-proxy-replacement", "true"),
        Map.entry("bpf-lb-map-max", "65536"),
        Map.entry("bpf-ct-global-tcp-max", "524288"),
        Map.entry("bpf-ct-global-any-max", "262144"),
        Map.entry("bpf-policy-map-max", "16384"),
        Map.entry("node-port-range", "30000-32767"),
        Map.entry("enable-policy", "default"),
        Map.entry("policy-audit-mode", "false"),
        Map.entry("debug", "false"),
        Map.entry("bpf-lb-sock", "true"),
        Map.entry("cgroup-root", "/run/anetd/cgroup")));
    assertThat(new CiliumConfigCheck().check(cm.getData())).isEmpty();
  }

  @Test
  void committedCrdIsTheGeneratedOne() throws IOException {
    String generated;
    try (InputStream in = getClass().getResourceAsStream(GENERATED_CRD)) {
      assertThat(in).as("generated CRD " + GENERATED_CRD + " on the classpath").isNotNull();
      generated = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String committed = Files.readString(deployDir.resolve(COMMITTED_CRD));

    assertThat(committed)
        .as("deploy/%s differs from the generated CRD: run `make crds` and commit", COMMITTED_CRD)
        .isEqualTo(generated);
    CustomResourceDefinition crd = one(CustomResourceDefinition.class,
        NetworkLogging.PLURAL + "." + NetworkLogging.GROUP);
    assertThat(crd.getSpec().getScope()).isEqualTo("Cluster");
    assertThat(crd.getSpec().getVersions()).singleElement().satisfies(v -> {
      assertThat(v.getName()).isEqualTo(NetworkLogging.VERSION);
      assertThat(v.getSubresources().getStatus()).isNotNull();
    });
  }

  private static void assertGrants(
      List<PolicyRule> rules, String group, String resource, String... verbs) {
    List<String> granted = rules.stream()
        .filter(r -> r.getApiGroups().contains(group) && r.getResources().contains(resource))
        .flatMap(r -> r.getVerbs().stream())
        .toList();
    assertThat(granted).as("verbs on %s/%s", group, resource).contains(verbs);
  }

  private static List<String> subjects(List<Subject> subjects) {
    return subjects.stream().map(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      return s.getNamespace() + "/" + s.getName();
    }).toList();
  }

  private static <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> found = all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).toList();
    assertThat(found).as("%s %s under deploy/", type.getSimpleName(), name).hasSize(1);
    return found.get(0);
  }

  private static Container container(List<Container> containers, String name) {
    return containers.stream().filter(c -> name.equals(c.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  private static Map<String, VolumeMount> mountsByPath(Container c) {
    Map<String, VolumeMount> mounts = new LinkedHashMap<>();
    c.getVolumeMounts().forEach(m -> mounts.put(m.getMountPath(), m));
    return mounts;
  }

  private static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> name.equals(v.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static String hostPath(PodSpec pod, VolumeMount mount) {
    assertThat(mount).as("mount").isNotNull();
    Volume v = volume(pod, mount.getName());
    assertThat(v.getHostPath()).as("volume %s is a hostPath", v.getName()).isNotNull();
    return v.getHostPath().getPath();
  }

  /**
   * fabric8 keeps fields its model does not have in {@code additionalProperties} instead of
   * failing; walking the typed object for them is the strict mode the parser lacks.
   */
  static void unknownFields(Object o, String path, List<String> found) {
    if (o == null) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        unknownFields(e, path + "[" + i++ + "]", found);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, found));
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : o.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || getter.getDeclaringClass() == Object.class
          || !(getter.getName().startsWith("get") || getter.getName().startsWith("is"))) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(o);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          found.add(path + ": " + extra.keySet());
        }
        continue;
      }
      if (value != null && !Objects.equals(value, o)) {
        unknownFields(value, path + "." + getter.getName().replaceFirst("^(get|is)", ""), found);
      }
    }
  }
}
