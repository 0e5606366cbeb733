package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.anetd.agent.datapath.Ipv4;

/** What the agent reads off a Pod in several rooms. */
public final class Pods {
  private Pods() {}

  /** status.podIPs (or status.podIP), IPv4 only, primary first, without duplicates. */
  public static List<Ipv4> ipv4s(Pod p) {
    List<String> raw = new ArrayList<>();
    if (p.getStatus() != null) {
      if (p.getStatus().getPodIPs() != null) {
        p.getStatus().getPodIPs().stream().map(PodIP::getIp).forEach(raw::add);
      }
      raw.add(p.getStatus().getPodIP());
    }
    return raw.stream().filter(Objects::nonNull).filter(Ipv4::isValid).map(Ipv4::parse)
        .distinct().toList();
  }
}
