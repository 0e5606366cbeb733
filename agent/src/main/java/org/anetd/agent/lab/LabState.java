package org.anetd.agent.lab;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a running lab left on disk for the other {@code anetd lab} commands (probe, exec, apply,
 * down run as separate processes): {@code DIR/lab.json} (the {@code lab up} process, its API
 * server, nodes and what to remove) and {@code DIR/pods/NS.NAME.json} (each pod's namespace,
 * address and echo server pid).
 */
public final class LabState {
  /** The lab's names: every namespace, pin directory and link it makes starts with this. */
  public static final String PREFIX = "anetd-lab-";
  public static final String WORLD_NETNS = PREFIX + "world";
  public static final Path DEFAULT_DIR = Path.of("/var/run/anetd-lab");
  public static final Path BPF_ROOT = Path.of("/sys/fs/bpf/anetd-lab");

  static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** One lab node: its namespace, uplink address, pod CIDR, agent socket and pins. */
  public record Node(String name, String netns, String ip, String podCidr, String cniSocket,
      String bpfRoot) {}

  /** The lab as {@code lab up} started it; {@code ready} once every node's agent serves CNI. */
  public record Lab(long pid, String apiServer, String kubeconfig, boolean embedded,
      List<Node> nodes, boolean ready) {}

  /** One lab pod. */
  public record Pod(String namespace, String name, String uid, String node, String netns,
      String containerId, String ip, long serverPid) {}

  private LabState() {}

  public static Path labFile(Path dir) {
    return dir.resolve("lab.json");
  }

  static Path podsDir(Path dir) {
    return dir.resolve("pods");
  }

  static Path podFile(Path dir, String namespace, String name) {
    return podsDir(dir).resolve(namespace + "." + name + ".json");
  }

  public static String podNetns(String namespace, String name) {
    return PREFIX + "pod-" + namespace + "." + name;
  }

  public static String nodeName(int n) {
    return PREFIX + "node-" + n;
  }

  static void write(Path file, Object value) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, JSON.writeValueAsBytes(value));
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  public static Optional<Lab> readLab(Path dir) {
    return read(labFile(dir), Lab.class);
  }

  public static Optional<Pod> readPod(Path dir, String namespace, String name) {
    return read(podFile(dir, namespace, name), Pod.class);
  }

  static List<Pod> pods(Path dir) {
    List<Pod> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(podsDir(dir))) {
      files.filter(f -> f.toString().endsWith(".json"))
          .forEach(f -> read(f, Pod.class).ifPresent(out::add));
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static <T> Optional<T> read(Path file, Class<T> type) {
    try {
      return Optional.of(JSON.readValue(Files.readAllBytes(file), type));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
