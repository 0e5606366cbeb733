package org.anetd.agent.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One client connection from a new process (python3) that first joins a cgroup, then enters a
 * netns: what cgroup socket programs (bpf-lb-sock) see. Prints
 * "peer-address:port|first line of the answer", the peer as getpeername()/recvfrom() report it.
 */
public final class CgroupClient {
  /** TCP, from source port argv[3] if given; the client closes first (TIME_WAIT is its own). */
  private static final String TCP = "import socket,sys\n"
      + "s=socket.socket(); s.settimeout(3)\n"
      + "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
      + "if len(sys.argv)>3: s.bind(('0.0.0.0',int(sys.argv[3])))\n"
      + "s.connect((sys.argv[1],int(sys.argv[2])))\n"
      + "p=s.getpeername(); l=s.makefile().readline().strip()\n"
      + "print('%s:%d|%s' % (p[0],p[1],l))\n";
  /** UDP on a connected socket: one datagram out, the first answer back. */
  private static final String UDP = "import socket,sys\n"
      + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)\n"
      + "s.connect((sys.argv[1],int(sys.argv[2]))); s.send(b'hi\\n')\n"
      + "d,a=s.recvfrom(512); print('%s:%d|%s' % (a[0],a[1],d.decode().strip()))\n";

  private CgroupClient() {}

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

  private static Shell.Result run(Path cgroup, NetnsLab.Netns ns, String script,
      String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", "-c",
        (cgroup == null ? "" : "echo $$ > " + cgroup.resolve("cgroup.procs") + " && ")
            + "exec ip netns exec " + ns.name() + " python3 -c \"$0\" \"$@\"", script));
    cmd.addAll(List.of(args));
    return Shell.exec(cmd, 10);
  }
}
