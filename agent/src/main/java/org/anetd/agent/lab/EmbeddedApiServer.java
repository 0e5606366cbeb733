package org.anetd.agent.lab;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.stream.Collectors;

/**
 * The lab's API server: fabric8's CRUD mock server (objects kept in memory, watches, finalizers,
 * the status subresource; a watch that resumes from before a deletion expires, see
 * {@link ResumableWatchDispatcher}) on 127.0.0.1, plus the discovery documents kubectl and
 * clients ask for first, serving the core, apps, discovery.k8s.io, networking.k8s.io and
 * networking.gke.io kinds. Plain HTTP on loopback, no authentication: a lab, not a cluster.
 */
public final class EmbeddedApiServer implements AutoCloseable {
  /**
   * The mock server logs two java.util.logging lines per request at INFO: thousands a minute in a
   * lab under probes, on the terminal of `anetd lab up` and in test logs. Held here: JUL keeps
   * only weak references to loggers, and a collected logger forgets its level.
   */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private final KubernetesMockServer server;

  private record Kind(String group, String version, String plural, String kind,
      boolean namespaced, String shortName) {
    String groupVersion() {
      return group.isEmpty() ? version : group + "/" + version;
    }
  }

  private static final List<Kind> KINDS = List.of(
      new Kind("", "v1", "namespaces", "Namespace", false, "ns"),
      new Kind("", "v1", "nodes", "Node", false, "no"),
      new Kind("", "v1", "pods", "Pod", true, "po"),
      new Kind("", "v1", "services", "Service", true, "svc"),
      new Kind("", "v1", "events", "Event", true, "ev"),
      new Kind("", "v1", "configmaps", "ConfigMap", true, "cm"),
      new Kind("apps", "v1", "deployments", "Deployment", true, "deploy"),
      new Kind("apps", "v1", "replicasets", "ReplicaSet", true, "rs"),
      new Kind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, ""),
      new Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, "netpol"),
      new Kind("networking.gke.io", "v1alpha1", "networkloggings", "NetworkLogging", false, "nl"));

  private EmbeddedApiServer(KubernetesMockServer server) {
    this.server = server;
  }

  /** Starts on 127.0.0.1:{@code port} (0 = any free port). */
  public static EmbeddedApiServer start(int port) {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    Map<String, String> discovery = discovery();
    ResumableWatchDispatcher crud = new ResumableWatchDispatcher();
    KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()),
        new MockWebServer(), responses, new io.fabric8.mockwebserver.http.Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            int q = path.indexOf('?');
            String body = "GET".equals(request.getMethod())
                ? discovery.get(q < 0 ? path : path.substring(0, q)) : null;
            if (body != null) {
              return new MockResponse().setResponseCode(200)
                  .setHeader("Content-Type", "application/json").setBody(body);
            }
            return crud.dispatch(request);
          }
        }, false);
    server.expectCustomResource(new CustomResourceDefinitionContext.Builder()
        .withGroup("networking.gke.io").withVersion("v1alpha1").withPlural("networkloggings")
        .withKind("NetworkLogging").withScope("Cluster").build());
    try {
      server.init(InetAddress.getLoopbackAddress(), port);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot start the embedded API server on 127.0.0.1:" + port
          + ": " + e.getMessage(), e);
    }
    return new EmbeddedApiServer(server);
  }

  public String url() {
    return "http://127.0.0.1:" + server.getPort();
  }

  /** A client of this server (the caller closes it). */
  public KubernetesClient client() {
    return clientFor(url());
  }

  static KubernetesClient clientFor(String url) {
    Config config = new ConfigBuilder(Config.empty()).withMasterUrl(url).withTrustCerts(true)
        .withNamespace("default").withRequestTimeout(10_000).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** A kubeconfig for kubectl (context {@code anetd-lab}, namespace default). */
  public void writeKubeconfig(Path file) {
    String text = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: anetd-lab
          cluster:
            server: %s
        users:
        - name: anetd-lab
          user: {}
        contexts:
        - name: anetd-lab
          context:
            cluster: anetd-lab
            user: anetd-lab
            namespace: default
        current-context: anetd-lab
        """.formatted(url());
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    server.destroy();
  }

  /** Path -> JSON for /api, /apis, /api/v1 and each /apis/GROUP/VERSION. */
  private static Map<String, String> discovery() {
    Map<String, String> out = new HashMap<>();
    out.put("/api", "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
        + "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}");
    Map<String, List<Kind>> byGroupVersion = KINDS.stream().collect(Collectors.groupingBy(
        Kind::groupVersion, LinkedHashMap::new, Collectors.toList()));
    String groups = byGroupVersion.values().stream().map(l -> l.get(0))
        .filter(k -> !k.group().isEmpty())
        .map(k -> "{\"name\":\"" + k.group() + "\",\"versions\":[{\"groupVersion\":\""
            + k.groupVersion() + "\",\"version\":\"" + k.version() + "\"}],"
            + "\"preferredVersion\":{\"groupVersion\":\"" + k.groupVersion() + "\",\"version\":\""
            + k.version() + "\"}}")
        .collect(Collectors.joining(","));
    out.put("/apis", "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" + groups + "]}");
    byGroupVersion.forEach((gv, kinds) -> {
      String resources = kinds.stream().map(k -> resource(k, k.plural(), k.kind()) + ","
              + resource(k, k.plural() + "/status", k.kind()))
          .collect(Collectors.joining(","));
      String path = gv.equals("v1") ? "/api/v1" : "/apis/" + gv;
      out.put(path, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\""
          + gv + "\",\"resources\":[" + resources + "]}");
    });
    return out;
  }

  private static String resource(Kind k, String name, String kind) {
    boolean status = name.endsWith("/status");
    String verbs = status ? "[\"get\",\"patch\",\"update\"]"
        : "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]";
    String shortNames = status || k.shortName().isEmpty() ? ""
        : ",\"shortNames\":[\"" + k.shortName() + "\"]";
    return "{\"name\":\"" + name + "\",\"singularName\":\"\",\"namespaced\":" + k.namespaced()
        + ",\"kind\":\"" + kind + "\",\"verbs\":" + verbs + shortNames + "}";
  }
}
