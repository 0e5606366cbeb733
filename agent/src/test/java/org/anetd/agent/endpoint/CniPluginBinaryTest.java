package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The C plugin against a real CniServer socket, with a recording handler (no root needed). */
class CniPluginBinaryTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  /** Remembers requests; ADD answers a fixed result, DEL fails when asked to. */
  static class RecordingHandler implements CniHandler {
    final List<CniRequest> requests = new CopyOnWriteArrayList<>();

    @Override
    public CniResult add(CniRequest request) {
      requests.add(request);
      return CniJsonTest.RESULT;
    }

    @Override
    public void del(CniRequest request) {
      requests.add(request);
      if (request.containerId().equals("fail")) {
        throw new CniException(CniError.AGENT_FAILURE, "cannot delete", "injected \"quoted\"");
      }
    }

    @Override
    public void check(CniRequest request) {
      requests.add(request);
    }

    @Override
    public void status(CniRequest request) {
      requests.add(request);
    }

    @Override
    public void gc(CniRequest request) {
      requests.add(request);
    }
  }

  private static Map<String, String> env(String command, String containerId) {
    return Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", containerId,
        "CNI_NETNS", "/var/run/netns/pod \"odd\"", "CNI_IFNAME", "eth0",
        "CNI_ARGS", "K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart", "CNI_PATH", "/opt/cni/bin");
  }

  @Test
  void addForwardsTheEnvironmentAndPrintsTheAgentsResult() throws Exception {
    Path socket = tmp.resolve("cni.sock");
    RecordingHandler handler = new RecordingHandler();
    try (CniServer server = CniServer.start(socket, handler)) {
      CniPlugin.Run run = CniPlugin.run(env("ADD", "c1"), CniPlugin.config(socket));

      assertThat(run.exitCode()).as(run.stdout()).isZero();
      JsonNode result = JSON.readTree(run.stdout());
      assertThat(result.path("cniVersion").asText()).isEqualTo("1.0.0");
      assertThat(result.at("/ips/0/address").asText()).isEqualTo("10.4.1.2/32");
      CniRequest r = handler.requests.get(0);
      assertThat(r.key()).isEqualTo(new AttachmentKey("c1", "eth0"));
      assertThat(r.netns()).isEqualTo("/var/run/netns/pod \"odd\"");
      assertThat(r.pod()).isEqualTo(new PodRef("shop", "cart"));
      assertThat(r.cniPath()).isEqualTo("/opt/cni/bin");
    }
  }

  @Test
  void anAgentErrorIsPrintedAndExitsOne() throws Exception {
    Path socket = tmp.resolve("cni.sock");
    try (CniServer server = CniServer.start(socket, new RecordingHandler())) {
      CniPlugin.Run run = CniPlugin.run(env("DEL", "fail"), CniPlugin.config(socket));

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(JSON.readTree(run.stdout())).isEqualTo(JSON.readTree(
          "{\"cniVersion\":\"1.0.0\",\"code\":103,\"msg\":\"cannot delete\","
              + "\"details\":\"injected \\\"quoted\\\"\"}"));
    }
  }

  @Test
  void delCheckStatusAndGcPrintNothingOnSuccess() {
    Path socket = tmp.resolve("cni.sock");
    try (CniServer server = CniServer.start(socket, new RecordingHandler())) {
      for (String command : List.of("DEL", "CHECK", "STATUS", "GC")) {
        String config = command.equals("GC") ? gcConfig(socket) : CniPlugin.config(socket);
        CniPlugin.Run run = CniPlugin.run(env(command, "c1"), config);
        assertThat(run.exitCode()).as(command + ": " + run.stdout()).isZero();
        assertThat(run.stdout()).as(command).isEmpty();
      }
    }
  }

  private static String gcConfig(Path socket) {
    return CniPlugin.config(socket).replaceFirst("}$",
        ",\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"}]}");
  }

  @Test
  void versionIsAnsweredWithoutTheAgent() throws Exception {
    CniPlugin.Run run = CniPlugin.run(Map.of("CNI_COMMAND", "VERSION"),
        "{\"cniVersion\":\"1.1.0\"}");

    assertThat(run.exitCode()).isZero();
    assertThat(JSON.readTree(run.stdout())).isEqualTo(JSON.readTree(
        "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":"
            + "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}"));
  }

  @Test
  void agentDownIsTryAgainLaterNamingTheSocket() throws Exception {
    Path socket = tmp.resolve("nobody.sock");

    CniPlugin.Run run = CniPlugin.run(env("ADD", "c1"), CniPlugin.config(socket));

    assertThat(run.exitCode()).isEqualTo(1);
    JsonNode error = JSON.readTree(run.stdout());
    assertThat(error.path("code").asInt()).isEqualTo(11);
    assertThat(error.path("msg").asText()).contains(socket.toString());
  }

  @Test
  void statusWithTheAgentDownIsNotAvailable() throws Exception {
    Path socket = tmp.resolve("nobody.sock");

    CniPlugin.Run run = CniPlugin.run(env("STATUS", "c1"), CniPlugin.config(socket));

    assertThat(run.exitCode()).isEqualTo(1);
    JsonNode error = JSON.readTree(run.stdout());
    assertThat(error.path("code").asInt()).isEqualTo(50);
    assertThat(error.path("msg").asText()).contains(socket.toString());
  }

  @Test
  void statusFailingInTheAgentIsNotAvailable() throws Exception {
    Path socket = tmp.resolve("cni.sock");
    RecordingHandler broken = new RecordingHandler() {
      @Override
      public void status(CniRequest request) {
        throw new IllegalStateException("injected");
      }
    };
    try (CniServer server = CniServer.start(socket, broken)) {
      CniPlugin.Run run = CniPlugin.run(env("STATUS", "c1"), CniPlugin.config(socket));

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(JSON.readTree(run.stdout()).path("code").asInt()).isEqualTo(50);
    }
  }

  /** The agent would cut the read, and the plugin see only a broken pipe. */
  @Test
  void aRequestLargerThanTheAgentTakesIsRefusedByThePluginAsAnIoError() throws Exception {
    Path socket = tmp.resolve("cni.sock");
    RecordingHandler handler = new RecordingHandler();
    String padding = "x".repeat(CniServer.MAX_REQUEST_BYTES);
    String config = CniPlugin.config(socket)
        .replaceFirst("}$", ",\"padding\":\"" + padding + "\"}");
    try (CniServer server = CniServer.start(socket, handler)) {
      CniPlugin.Run run = CniPlugin.run(env("ADD", "c1"), config);

      assertThat(run.exitCode()).isEqualTo(1);
      JsonNode error = JSON.readTree(run.stdout());
      assertThat(error.path("code").asInt()).isEqualTo(5);
      assertThat(error.path("msg").asText()).contains("too large");
      assertThat(handler.requests).isEmpty();
    }
  }

  /** An agent whose listen queue is full: connect() gives up after 10 s instead of never. */
  @Test
  void anAgentThatAcceptsNothingIsTryAgainLaterWithinSeconds() throws Exception {
    Path socket = tmp.resolve("full.sock");
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(UnixDomainSocketAddress.of(socket), 1); // never accepts
      List<SocketChannel> queued = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) { // a queue of backlog 1 holds two
          queued.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
        }
        CniPlugin.Run run = assertTimeoutPreemptively(Duration.ofSeconds(30),
            () -> CniPlugin.run(env("ADD", "c1"), CniPlugin.config(socket)));

        assertThat(run.exitCode()).isEqualTo(1);
        JsonNode error = JSON.readTree(run.stdout());
        assertThat(error.path("code").asInt()).isEqualTo(11);
        assertThat(error.path("msg").asText()).contains("busy");
      } finally {
        for (SocketChannel c : queued) {
          c.close();
        }
      }
    }
  }

  @Test
  void socketIsOwnerOnlyAndAStaleOneIsReplaced() throws Exception {
    Path socket = tmp.resolve("cni.sock");
    CniServer.start(socket, new RecordingHandler()).close();
    Files.createFile(socket); // what a killed agent leaves behind

    try (CniServer server = CniServer.start(socket, new RecordingHandler())) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
          .isEqualTo("rw-------");
      assertThat(CniPlugin.run(env("STATUS", "c1"), CniPlugin.config(socket)).exitCode()).isZero();
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void aSecondAgentDoesNotStealALiveSocket() {
    Path socket = tmp.resolve("cni.sock");
    try (CniServer first = CniServer.start(socket, new RecordingHandler())) {
      assertThatThrownBy(() -> CniServer.start(socket, new RecordingHandler()))
          .hasMessageContaining("another anetd agent serves CNI on " + socket);
    }
  }

  /**
   * A rollout: the old agent stops while it still serves an ADD, the new one binds the same path
   * meanwhile. The old agent's request completes and the new agent's socket stays.
   */
  @Test
  void anAgentStoppingWithARequestInFlightLeavesTheSocketOfTheAgentThatReplacedIt()
      throws Exception {
    Path socket = tmp.resolve("cni.sock");
    CountDownLatch addRunning = new CountDownLatch(1);
    CountDownLatch finishAdd = new CountDownLatch(1);
    RecordingHandler slowAdd = new RecordingHandler() {
      @Override
      public CniResult add(CniRequest request) {
        addRunning.countDown();
        try {
          finishAdd.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return super.add(request);
      }
    };
    CniServer old = CniServer.start(socket, slowAdd);
    FutureTask<CniPlugin.Run> add = new FutureTask<>(
        () -> CniPlugin.run(env("ADD", "c1"), CniPlugin.config(socket)));
    new Thread(add, "plugin-add").start();
    assertThat(addRunning.await(30, TimeUnit.SECONDS)).isTrue();
    Thread oldStopping = new Thread(old::close, "old-agent-close");
    oldStopping.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> !answers(socket));

    try (CniServer replacement = CniServer.start(socket, new RecordingHandler())) {
      finishAdd.countDown();
      oldStopping.join(TimeUnit.SECONDS.toMillis(30));

      assertThat(add.get(30, TimeUnit.SECONDS).exitCode()).isZero();
      assertThat(oldStopping.isAlive()).isFalse();
      assertThat(socket).exists();
      assertThat(CniPlugin.run(env("STATUS", "c1"), CniPlugin.config(socket)).exitCode())
          .isZero();
    }
  }

  private static boolean answers(Path socket) {
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
