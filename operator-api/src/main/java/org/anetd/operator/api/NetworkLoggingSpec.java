package org.anetd.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import java.util.Objects;

/** {@code spec} of a {@link NetworkLogging}: today only cluster-wide settings. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NetworkLoggingSpec {
  @JsonPropertyDescription("Cluster-wide logging of policy verdicts.")
  private ClusterLogging cluster;

  public NetworkLoggingSpec() {}

  public NetworkLoggingSpec(ClusterLogging cluster) {
    this.cluster = cluster;
  }

  /** allow.log, allow.delegate, deny.log, deny.delegate in that order. */
  public static NetworkLoggingSpec of(
      boolean allowLog, boolean allowDelegate, boolean denyLog, boolean denyDelegate) {
    return new NetworkLoggingSpec(new ClusterLogging(
        new ActionLogging(allowLog, allowDelegate), new ActionLogging(denyLog, denyDelegate)));
  }

  /** A deep copy with absent parts filled in as all-false (what {@code status.appliedSpec} holds). */
  public NetworkLoggingSpec normalizedCopy() {
    ClusterLogging c = clusterOrDefault();
    ActionLogging a = c.allowOrDefault();
    ActionLogging d = c.denyOrDefault();
    return of(a.isLog(), a.isDelegate(), d.isLog(), d.isDelegate());
  }

  public ClusterLogging getCluster() {
    return cluster;
  }

  public void setCluster(ClusterLogging cluster) {
    this.cluster = cluster;
  }

  /** The cluster settings, with absent parts read as all-false (the API defaults). */
  public ClusterLogging clusterOrDefault() {
    return cluster == null ? new ClusterLogging() : cluster;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetworkLoggingSpec other
        && clusterOrDefault().equals(other.clusterOrDefault());
  }

  @Override
  public int hashCode() {
    return clusterOrDefault().hashCode();
  }

  @Override
  public String toString() {
    return "{cluster: " + clusterOrDefault() + "}";
  }

  /** {@code spec.cluster}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ClusterLogging {
    @JsonPropertyDescription("Logging of allowed connections.")
    private ActionLogging allow;

    @JsonPropertyDescription("Logging of denied connections.")
    private ActionLogging deny;

    public ClusterLogging() {}

    public ClusterLogging(ActionLogging allow, ActionLogging deny) {
      this.allow = allow;
      this.deny = deny;
    }

    public ActionLogging getAllow() {
      return allow;
    }

    public void setAllow(ActionLogging allow) {
      this.allow = allow;
    }

    public ActionLogging getDeny() {
      return deny;
    }

    public void setDeny(ActionLogging deny) {
      this.deny = deny;
    }

    public ActionLogging allowOrDefault() {
      return allow == null ? new ActionLogging() : allow;
    }

    public ActionLogging denyOrDefault() {
      return deny == null ? new ActionLogging() : deny;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ClusterLogging other
          && allowOrDefault().equals(other.allowOrDefault())
          && denyOrDefault().equals(other.denyOrDefault());
    }

    @Override
    public int hashCode() {
      return Objects.hash(allowOrDefault(), denyOrDefault());
    }

    @Override
    public String toString() {
      return "{allow: " + allowOrDefault() + ", deny: " + denyOrDefault() + "}";
    }
  }

  /** {@code spec.cluster.allow} or {@code spec.cluster.deny}. */
  public static class ActionLogging {
    @JsonPropertyDescription(
        "Log connections with this verdict. With delegate: false, every such connection is logged.")
    @Default("false")
    private boolean log;

    @JsonPropertyDescription(
        "Log only connections selected by annotations: NetworkPolicies with"
            + " policy.network.gke.io/enable-logging: \"true\" (allow) and Namespaces with"
            + " policy.network.gke.io/enable-deny-logging: \"true\" (deny). Requires log: true.")
    @Default("false")
    private boolean delegate;

    public ActionLogging() {}

    public ActionLogging(boolean log, boolean delegate) {
      this.log = log;
      this.delegate = delegate;
    }

    public boolean isLog() {
      return log;
    }

    public void setLog(boolean log) {
      this.log = log;
    }

    public boolean isDelegate() {
      return delegate;
    }

    public void setDelegate(boolean delegate) {
      this.delegate = delegate;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ActionLogging other && log == other.log && delegate == other.delegate;
    }

    @Override
    public int hashCode() {
      return Objects.hash(log, delegate);
    }

    @Override
    public String toString() {
      return "{log: " + log + ", delegate: " + delegate + "}";
    }
  }
}
