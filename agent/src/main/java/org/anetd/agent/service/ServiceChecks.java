package org.anetd.agent.service;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;
import org.anetd.agent.k8s.Reason;

/**
 * The checks of the service compiler, one small method each: empty when the value is usable, a
 * {@link Problem} naming the object, the field and the value when it is not. The caller decides
 * what is skipped (the object, one port, one address) and never stops.
 */
final class ServiceChecks {
  static final Set<String> SERVICE_TYPES =
      Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
  static final int MIN_AFFINITY_TIMEOUT_SECONDS = 1;
  static final int MAX_AFFINITY_TIMEOUT_SECONDS = 86400;

  private ServiceChecks() {}

  /** A reference even for an object missing its metadata, so that it can still be reported. */
  static ObjectRef refOf(HasMetadata o) {
    if (o.getMetadata() == null) {
      return new ObjectRef(o.getKind(), "", "<no metadata>");
    }
    return new ObjectRef(
        o.getKind(),
        Objects.toString(o.getMetadata().getNamespace(), ""),
        Objects.toString(o.getMetadata().getName(), "<no name>"));
  }

  static Optional<Problem> checkObject(Service service) {
    if (service.getMetadata() == null
        || service.getMetadata().getName() == null
        || service.getMetadata().getNamespace() == null) {
      return problem(refOf(service), Reason.InvalidObject, "metadata.name or namespace is missing");
    }
    if (service.getSpec() == null) {
      return problem(refOf(service), Reason.InvalidObject, "spec is missing");
    }
    return Optional.empty();
  }

  static Optional<Problem> checkType(ObjectRef ref, String type) {
    if (!SERVICE_TYPES.contains(type)) {
      return problem(ref, Reason.InvalidObject, "spec.type \"" + type
          + "\" is not one of ClusterIP, NodePort, LoadBalancer, ExternalName");
    }
    return Optional.empty();
  }

  /** A dotted-quad IPv4 address. Callers skip IPv6 before asking: it is not an error. */
  static Optional<Problem> checkIpv4(ObjectRef ref, String address, String field) {
    if (!Ipv4.isValid(address)) {
      return problem(ref, Reason.InvalidIp, field + " \"" + address + "\" is not an IP address");
    }
    return Optional.empty();
  }

  /** The service port itself: a number in 1..65535 and a protocol the datapath balances. */
  static Optional<Problem> checkServicePort(ObjectRef ref, ServicePort port) {
    Integer number = port.getPort();
    if (number == null || number < 1 || number > 65535) {
      return problem(ref, Reason.InvalidPort,
          "port " + number + " of " + describe(port) + " is outside 1-65535");
    }
    Protocol protocol;
    try {
      protocol = Protocol.ofKubernetes(port.getProtocol());
    } catch (IllegalArgumentException e) {
      return problem(ref, Reason.UnsupportedProtocol, describe(port) + ": " + e.getMessage());
    }
    if (protocol != Protocol.TCP && protocol != Protocol.UDP) {
      return problem(ref, Reason.UnsupportedProtocol,
          describe(port) + ": protocol " + protocol + " is not load-balanced (TCP and UDP are)");
    }
    return Optional.empty();
  }

  static Optional<Problem> checkNodePort(
      ObjectRef ref, ServicePort port, ServiceCompilerConfig.NodePortRange range) {
    if (!range.contains(port.getNodePort())) {
      return problem(ref, Reason.InvalidPort, "nodePort " + port.getNodePort() + " of "
          + describe(port) + " is outside node-port-range " + range);
    }
    return Optional.empty();
  }

  /**
   * A named targetPort that no slice resolves: the pods do not declare that port name. Only
   * judged when the Service has endpoints at all; without any there is nothing to resolve
   * against yet.
   */
  static Optional<Problem> checkTargetPortName(
      ObjectRef ref, ServicePort port, boolean resolvedBySomeSlice, boolean serviceHasEndpoints) {
    IntOrString target = port.getTargetPort();
    if (target == null || target.getStrVal() == null || resolvedBySomeSlice
        || !serviceHasEndpoints) {
      return Optional.empty();
    }
    return problem(ref, Reason.UnknownPortName, "targetPort \"" + target.getStrVal() + "\" of "
        + describe(port) + " is not resolved by any EndpointSlice (no endpoint declares it)");
  }

  static Optional<Problem> checkAffinityTimeout(ObjectRef ref, int seconds) {
    if (seconds < MIN_AFFINITY_TIMEOUT_SECONDS || seconds > MAX_AFFINITY_TIMEOUT_SECONDS) {
      return problem(ref, Reason.InvalidTimeout, "sessionAffinityConfig.clientIP.timeoutSeconds "
          + seconds + " is outside " + MIN_AFFINITY_TIMEOUT_SECONDS + "-"
          + MAX_AFFINITY_TIMEOUT_SECONDS + "; using the default");
    }
    return Optional.empty();
  }

  static Optional<Problem> checkHealthCheckNodePort(ObjectRef ref, int port) {
    if (port < 1 || port > 65535) {
      return problem(ref, Reason.InvalidPort, "healthCheckNodePort " + port + " is outside 1-65535");
    }
    return Optional.empty();
  }

  static String describe(ServicePort port) {
    String name = port.getName() == null || port.getName().isEmpty() ? "" : " \"" + port.getName()
        + "\"";
    return "port" + name + " (" + port.getPort() + "/"
        + Objects.toString(port.getProtocol(), "TCP") + ")";
  }

  private static Optional<Problem> problem(ObjectRef ref, Reason reason, String message) {
    return Optional.of(new Problem(ref, reason, message));
  }
}
