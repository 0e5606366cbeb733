package org.anetd.agent.endpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.datapath.NetnsCommand;
import org.anetd.agent.datapath.NetnsCommand.Result;

/**
 * {@link LinkOps} through iproute2: `ip -j ...` and `sysctl`, run inside a namespace with
 * `nsenter --net=PATH` (which, unlike `ip -n`, takes any namespace path the runtime passes).
 */
public final class IpRouteLinkOps implements LinkOps {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** A command that failed: the command line, its exit code and what it printed. */
  public static final class CommandFailedException extends RuntimeException {
    private final String output;

    CommandFailedException(List<String> command, int exit, String output) {
      super("`" + String.join(" ", command) + "` exited " + exit + ": " + output.strip());
      this.output = output;
    }

    public String output() {
      return output;
    }
  }

  @Override
  public Optional<Link> link(Path netns, String ifname) {
    Result r = exec(netns, List.of("ip", "-j", "link", "show", "dev", ifname));
    if (r.exit() != 0) {
      if (r.output().contains("does not exist")) {
        return Optional.empty();
      }
      throw new CommandFailedException(r.command(), r.exit(), r.output());
    }
    JsonNode arr = parse(r);
    if (!arr.isArray() || arr.isEmpty()) {
      return Optional.empty();
    }
    JsonNode l = arr.get(0);
    boolean up = false;
    for (JsonNode f : l.path("flags")) {
      up |= "UP".equals(f.asText());
    }
    return Optional.of(new Link(l.path("ifname").asText(), l.path("ifindex").asInt(),
        l.path("address").asText(), up));
  }

  @Override
  public void createVethPair(Path hostNetns, String hostIfname, Path peerNetns, String peerIfname,
      int mtu) {
    List<String> mtuArgs = mtu > 0 ? List.of("mtu", Integer.toString(mtu)) : List.of();
    List<String> command = new ArrayList<>(List.of("ip", "link", "add", hostIfname));
    command.addAll(mtuArgs);
    command.addAll(List.of("type", "veth", "peer", "name", peerIfname));
    command.addAll(mtuArgs);
    command.addAll(List.of("netns", peerNetns == null ? "1" : peerNetns.toString()));
    run(hostNetns, command);
  }

  @Override
  public void deleteLink(Path netns, String ifname) {
    Result r = exec(netns, List.of("ip", "link", "del", "dev", ifname));
    if (r.exit() != 0 && !r.output().contains("does not exist") && !r.output().contains("Cannot find")) {
      throw new CommandFailedException(r.command(), r.exit(), r.output());
    }
  }

  @Override
  public void setUp(Path netns, String ifname) {
    run(netns, List.of("ip", "link", "set", "dev", ifname, "up"));
  }

  @Override
  public void addAddress(Path netns, String ifname, String cidr) {
    run(netns, List.of("ip", "addr", "add", cidr, "dev", ifname));
  }

  @Override
  public List<String> addresses(Path netns, String ifname) {
    Result r = exec(netns, List.of("ip", "-j", "-4", "addr", "show", "dev", ifname));
    if (r.exit() != 0) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (JsonNode l : parse(r)) {
      for (JsonNode a : l.path("addr_info")) {
        out.add(a.path("local").asText() + "/" + a.path("prefixlen").asInt());
      }
    }
    return out;
  }

  @Override
  public void addRoute(Path netns, Route route) {
    List<String> cmd = new ArrayList<>(List.of("ip", "route", "add", route.dst()));
    if (route.gateway() != null) {
      cmd.addAll(List.of("via", route.gateway()));
    }
    cmd.addAll(List.of("dev", route.dev()));
    if (route.scope() != null) {
      cmd.addAll(List.of("scope", route.scope()));
    }
    run(netns, cmd);
  }

  @Override
  public List<Route> routes(Path netns, String ifname) {
    Result r = exec(netns, List.of("ip", "-j", "-4", "route", "show", "dev", ifname));
    if (r.exit() != 0) {
      return List.of();
    }
    List<Route> out = new ArrayList<>();
    for (JsonNode n : parse(r)) {
      String gateway = n.hasNonNull("gateway") ? n.get("gateway").asText() : null;
      String scope = n.hasNonNull("scope") ? n.get("scope").asText() : null;
      out.add(new Route(n.path("dst").asText(), gateway, ifname, scope));
    }
    return out;
  }

  @Override
  public void setSysctl(Path netns, String key, String value) {
    run(netns, List.of("sysctl", "-q", "-w", key + "=" + value));
  }


  private static void run(Path netns, List<String> command) {
    Result r = exec(netns, command);
    if (r.exit() != 0) {
      throw new CommandFailedException(r.command(), r.exit(), r.output());
    }
  }

  private static JsonNode parse(Result r) {
    try {
      return JSON.readTree(r.output().isBlank() ? "[]" : r.output());
    } catch (IOException e) {
      throw new IllegalStateException("cannot parse the output of `" + String.join(" ", r.command())
          + "`: " + e.getMessage(), e);
    }
  }

  private static Result exec(Path netns, List<String> command) {
    return exec(netns, command, TIMEOUT);
  }

  /** Runs {@code command} in {@code netns} (null: the agent's); kills it after {@code timeout}. */
  static Result exec(Path netns, List<String> command, Duration timeout) {
    return NetnsCommand.run(netns, command, timeout);
  }
}
