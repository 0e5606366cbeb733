package org.anetd.agent.endpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent end of the CNI plugin: a unix socket (/var/run/anetd/cni.sock by default, mode 0600:
 * whoever can talk to it can wire pods) taking one request per connection from cni/anetd-cni,
 * dispatching it to a {@link CniHandler} and replying with a framed CNI result or error
 * ({@link CniJson}).
 *
 * <p>A socket file left by a dead agent is removed at start; one that still answers belongs to a
 * running agent and makes {@link #start} fail instead of stealing its pods.
 */
public final class CniServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CniServer.class);
  /** A network configuration with a large prevResult stays far below this. */
  static final int MAX_REQUEST_BYTES = 4 << 20;
  private static final int WORKERS = 8;

  private final Path socketPath;
  private final CniHandler handler;
  private final ServerSocketChannel server;
  /** The identity (device, inode) of the socket file this server bound. */
  private final Object socketFileKey;
  private final ExecutorService workers;
  private final Thread acceptor;
  private volatile boolean closed;

  private CniServer(Path socketPath, CniHandler handler, ServerSocketChannel server,
      Object socketFileKey) {
    this.socketPath = socketPath;
    this.handler = handler;
    this.server = server;
    this.socketFileKey = socketFileKey;
    AtomicInteger n = new AtomicInteger();
    this.workers = Executors.newFixedThreadPool(WORKERS, r -> {
      Thread t = new Thread(r, "cni-request-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptLoop, "cni-accept");
    this.acceptor.setDaemon(true);
  }

  /** Binds {@code socketPath} and starts serving. */
  public static CniServer start(Path socketPath, CniHandler handler) {
    try {
      Files.createDirectories(socketPath.toAbsolutePath().getParent());
      removeStaleSocket(socketPath);
      ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      Object fileKey;
      try {
        server.bind(UnixDomainSocketAddress.of(socketPath));
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        fileKey = fileKey(socketPath);
      } catch (IOException | RuntimeException e) {
        server.close();
        throw e;
      }
      CniServer s = new CniServer(socketPath, handler, server, fileKey);
      s.acceptor.start();
      LOG.info("CNI server listening on {}", socketPath);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve CNI on " + socketPath + ": " + e.getMessage(),
          e);
    }
  }

  public Path socketPath() {
    return socketPath;
  }

  /**
   * Answers one request: decodes it, dispatches it and frames the result or the error. Never
   * throws: every failure becomes a CNI error the plugin prints.
   */
  public static byte[] respond(CniHandler handler, byte[] request) {
    String version = "1.1.0";
    CniCommand command = null;
    try {
      CniRequest r = CniJson.parseRequest(request);
      version = r.cniVersion().isEmpty() ? version : r.cniVersion();
      command = r.command();
      byte[] stdout = switch (r.command()) {
        case ADD -> CniJson.renderResult(r.cniVersion(), handler.add(r), r.prevResult());
        case DEL -> {
          handler.del(r);
          yield new byte[0];
        }
        case CHECK -> {
          handler.check(r);
          yield new byte[0];
        }
        case STATUS -> {
          handler.status(r);
          yield new byte[0];
        }
        case GC -> {
          handler.gc(r);
          yield new byte[0];
        }
        case VERSION -> CniJson.renderVersion();
      };
      return CniJson.frame(0, stdout);
    } catch (CniException e) {
      LOG.warn("CNI request failed: {}", e.getMessage());
      return CniJson.frame(1, CniJson.renderError(version, e.error()));
    } catch (RuntimeException e) {
      LOG.error("CNI request failed in the agent", e);
      // STATUS has its own code for "cannot serve ADD now" (spec 1.1)
      int code = command == CniCommand.STATUS ? CniError.NOT_AVAILABLE : CniError.AGENT_FAILURE;
      return CniJson.frame(1, CniJson.renderError(version, new CniError(code,
          "anetd agent failed", String.valueOf(e.getMessage()))));
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        SocketChannel client = server.accept();
        workers.execute(() -> serve(client));
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("CNI accept on {} failed: {}", socketPath, e.getMessage());
        }
      }
    }
  }

  private void serve(SocketChannel client) {
    try (client) {
      byte[] request = readRequest(client);
      byte[] reply = request == null
          ? CniJson.frame(1, CniJson.renderError("1.1.0", new CniError(CniError.IO_FAILURE,
              "plugin request larger than " + MAX_REQUEST_BYTES + " bytes", null)))
          : respond(handler, request);
      ByteBuffer out = ByteBuffer.wrap(reply);
      while (out.hasRemaining()) {
        client.write(out);
      }
    } catch (IOException e) {
      LOG.warn("CNI connection on {} failed: {}", socketPath, e.getMessage());
    }
  }

  /** Reads until the plugin shuts down its side; null when the request is too large. */
  private static byte[] readRequest(SocketChannel client) throws IOException {
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (client.read(buf) >= 0) {
      buf.flip();
      in.write(buf.array(), 0, buf.limit());
      buf.clear();
      if (in.size() > MAX_REQUEST_BYTES) {
        return null;
      }
    }
    return in.toByteArray();
  }

  private static void removeStaleSocket(Path socketPath) throws IOException {
    if (!Files.exists(socketPath)) {
      return;
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socketPath));
      throw new IllegalStateException("another anetd agent serves CNI on " + socketPath
          + "; stop it first");
    } catch (IOException e) {
      // nobody listens: the file is left over from an agent that died
      Files.deleteIfExists(socketPath);
      LOG.info("removed stale CNI socket {}", socketPath);
    }
  }

  private static Object fileKey(Path path) throws IOException {
    return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .fileKey();
  }

  /**
   * Stops accepting, removes the socket file, lets requests in flight finish (up to 30 s).
   *
   * <p>Once the listener is closed, a new agent (a rollout) may bind a new socket at the same
   * path: the file is removed at once and only while it is still the one this server bound, so
   * the new agent's socket stays.
   */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      LOG.warn("closing CNI socket {}: {}", socketPath, e.getMessage());
    }
    removeOwnSocketFile();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
    }
    try {
      acceptor.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void removeOwnSocketFile() {
    try {
      if (Objects.equals(fileKey(socketPath), socketFileKey)) {
        Files.deleteIfExists(socketPath);
      } else {
        LOG.info("CNI socket {} is another agent's now; left in place", socketPath);
      }
    } catch (NoSuchFileException e) {
      // removed already (a new agent found it stale)
    } catch (IOException e) {
      LOG.warn("cannot remove CNI socket {}: {}", socketPath, e.getMessage());
    }
  }
}
