package org.anetd.agent.lab;

import java.util.regex.Pattern;
import org.anetd.agent.datapath.Ipv4;

/**
 * What {@code anetd lab probe} connects to (pure parsing): {@code TARGET:PORT} where TARGET is an
 * IPv4 address, {@code NAME.NAMESPACE.svc} (the Service's ClusterIP; {@code .cluster.local} may
 * follow), {@code NAMESPACE/POD} (the pod's IP) or {@code node} (the probing pod's lab node, for
 * NodePorts).
 */
public sealed interface ProbeTarget {
  record Address(String ip) implements ProbeTarget {}

  record ServiceName(String namespace, String name) implements ProbeTarget {}

  record PodName(String namespace, String name) implements ProbeTarget {}

  record Node() implements ProbeTarget {}

  /** A parsed {@code TARGET:PORT}. */
  record WithPort(ProbeTarget target, int port) {}

  Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  /** @throws IllegalArgumentException naming what is wrong (a usage error) */
  static WithPort parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("target \"" + text + "\" is not TARGET:PORT");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port \"" + text.substring(colon + 1) + "\" is not a number");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not in 1..65535");
    }
    return new WithPort(parseHost(text.substring(0, colon)), port);
  }

  private static ProbeTarget parseHost(String host) {
    if (host.equals("node")) {
      return new Node();
    }
    if (host.contains("/")) {
      String[] parts = host.split("/", -1);
      if (parts.length != 2 || !DNS_LABEL.matcher(parts[0]).matches() || parts[1].isEmpty()) {
        throw new IllegalArgumentException("pod \"" + host + "\" is not NAMESPACE/POD");
      }
      return new PodName(parts[0], parts[1]);
    }
    if (Ipv4.isValid(host)) {
      return new Address(host);
    }
    String name = host.endsWith(".svc.cluster.local")
        ? host.substring(0, host.length() - ".cluster.local".length()) : host;
    String[] labels = name.split("\\.", -1);
    if (labels.length == 3 && labels[2].equals("svc") && DNS_LABEL.matcher(labels[0]).matches()
        && DNS_LABEL.matcher(labels[1]).matches()) {
      return new ServiceName(labels[1], labels[0]);
    }
    throw new IllegalArgumentException("target \"" + host + "\" is not an IPv4 address,"
        + " NAME.NAMESPACE.svc, NAMESPACE/POD or node");
  }
}
