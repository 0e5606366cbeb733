package org.anetd.agent.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One client connection from a new process (python3) that first joins a cgroup, then enters a
 * netns: what cgroup socket programs (bpf-lb-sock) see. Prints
 * "peer-address:port|first line of the answer", the peer as getpeername()/recvfrom() report it.
 * An address with a colon (a v4-mapped {@code ::ffff:a.b.c.d}) makes the socket AF_INET6, as a
 * JVM's are.
 */
public final class CgroupClient {
  /** The socket family the address in argv[1] asks for. */
  private static final String FAMILY =
      "f=socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n";
  /** TCP, from source port argv[3] if given; the client closes first (TIME_WAIT is its own). */
  private static final String TCP = "import socket,sys\n"
      + FAMILY
      + "s=socket.socket(f); s.settimeout(3)\n"
      + "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
      + "if len(sys.argv)>3:\n"
      + "  s.bind(('::' if f==socket.AF_INET6 else '0.0.0.0',int(sys.argv[3])))\n"
      + "s.connect((sys.argv[1],int(sys.argv[2])))\n"
      + "p=s.getpeername(); l=s.makefile().readline().strip()\n"
      + "print('%s:%d|%s' % (p[0],p[1],l))\n";
  /** UDP on a connected socket: one datagram out, the first answer back. */
  private static final String UDP = "import socket,sys\n"
      + FAMILY + "s=socket.socket(f,socket.SOCK_DGRAM); s.settimeout(3)\n"
      + "s.connect((sys.argv[1],int(sys.argv[2]))); s.send(b'hi\\n')\n"
      + "d,a=s.recvfrom(512); print('%s:%d|%s' % (a[0],a[1],d.decode().strip()))\n";

  /**
   * UDP on one unconnected socket: argv[3] times sendto(), then recvfrom() tells who answered;
   * a line per answer.
   */
  private static final String UDP_UNCONNECTED = "import socket,sys\n"
      + FAMILY + "s=socket.socket(f,socket.SOCK_DGRAM); s.settimeout(3)\n"
      + "for _ in range(int(sys.argv[3])):\n"
      + "  s.sendto(b'hi\\n',(sys.argv[1],int(sys.argv[2])))\n"
      + "  d,a=s.recvfrom(512); print('%s:%d|%s' % (a[0],a[1],d.decode().strip()))\n";

  /** TCP kept open: prints "connected", then the peer once per line read from stdin. */
  private static final String HELD_TCP = "import socket,sys\n"
      + FAMILY
      + "s=socket.socket(f); s.settimeout(3)\n"
      + "s.connect((sys.argv[1],int(sys.argv[2]))); print('connected', flush=True)\n"
      + "for _ in sys.stdin:\n"
      + "  p=s.getpeername(); print('%s:%d' % (p[0],p[1]), flush=True)\n";

  private CgroupClient() {}

  /** A TCP connection that stays open, whose peer the test asks for when it wants. */
  public static final class HeldConnection implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    private HeldConnection(Process process) {
      this.process = process;
      this.out = process.inputReader();
      this.in = process.outputWriter();
    }

    /** getpeername() of the open socket, now. */
    public String peer() throws IOException {
      in.write("\n");
      in.flush();
      return readLine();
    }

    private String readLine() throws IOException {
      String line = out.readLine();
      if (line == null) {
        throw new IOException("client exited: "
            + new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      return line;
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** {@link #tcp} kept open: returns once connected. Close it to end the client. */
  public static HeldConnection heldTcp(Path cgroup, NetnsLab.Netns ns, String host, int port)
      throws IOException {
    Process p = new ProcessBuilder(command(cgroup, ns, HELD_TCP, host, "" + port)).start();
    HeldConnection held = new HeldConnection(p);
    try {
      String first = held.readLine();
      if (!first.equals("connected")) {
        throw new IOException("client: " + first);
      }
    } catch (IOException | RuntimeException e) {
      held.close();
      throw e;
    }
    return held;
  }

  /** A TCP connection from netns {@code ns}, inside {@code cgroup} (null: the test's own). */
  public static Shell.Result tcp(Path cgroup, NetnsLab.Netns ns, String host, int port) {
    return run(cgroup, ns, TCP, host, "" + port);
  }

  /** {@link #tcp} from a fixed source port. */
  public static Shell.Result tcp(Path cgroup, NetnsLab.Netns ns, String host, int port,
      int sourcePort) {
    return run(cgroup, ns, TCP, host, "" + port, "" + sourcePort);
  }

  public static Shell.Result udp(Path cgroup, NetnsLab.Netns ns, String host, int port) {
    return run(cgroup, ns, UDP, host, "" + port);
  }

  public static Shell.Result udpUnconnected(Path cgroup, NetnsLab.Netns ns, String host,
      int port) {
    return udpUnconnected(cgroup, ns, host, port, 1);
  }

  /** {@link #udpUnconnected} with {@code datagrams} exchanges on the one socket. */
  public static Shell.Result udpUnconnected(Path cgroup, NetnsLab.Netns ns, String host,
      int port, int datagrams) {
    return run(cgroup, ns, UDP_UNCONNECTED, host, "" + port, "" + datagrams);
  }

  private static Shell.Result run(Path cgroup, NetnsLab.Netns ns, String script,
      String... args) {
    return Shell.exec(command(cgroup, ns, script, args), 10);
  }

  private static List<String> command(Path cgroup, NetnsLab.Netns ns, String script,
      String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c",
        (cgroup == null ? "" : "echo $$ > " + cgroup.resolve("cgroup.procs") + " && ")
            + "exec ip netns exec " + ns.name() + " python3 -c \"$0\" \"$@\"", script));
    cmd.addAll(List.of(args));
    return cmd;
  }
}
