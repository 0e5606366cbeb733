package org.anetd.agent.daemon;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.ConfigHolder;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.metrics.HealthServer;

/** The summary `anetd status` prints, in the spirit of `cilium status` (pure formatting). */
final class AgentStatus {
  private AgentStatus() {}

  /**
   * @param started the config the agent started with: restart-only keys (kube-proxy-replacement,
   *     policy-audit-mode, map sizes...) are shown as they run
   * @param nodePortRange the node-port-range in force
   * @param pending what waits for a restart ({@link Agent#pendingRestart})
   */
  static String render(AgentOptions options, ConfigHolder config, AgentConfig started,
      String nodePortRange, List<String> pending, HealthServer.Status health, Reconciler.Report last, Instant lastTime, Datapath datapath,
      String socketLoadBalancing, String metricsServer,
      org.anetd.agent.logging.PolicyLoggingCounters policyLog,
      Optional<ClusterState> watched) {
    StringBuilder out = new StringBuilder();
    AgentConfig current = config.current();
    AgentConfig c = started != null ? started : current;
    line(out, "Node", options.nodeName());
    line(out, "Health", health.notLive().isEmpty() ? "Ok" : "Failing: " + String.join("; ", health.notLive()));
    line(out, "Ready", health.notReady().isEmpty() ? "Ok" : "No: " + String.join("; ", health.notReady()));
    line(out, "KubeProxyReplacement", c.kubeProxyReplacement() ? "True" : "False");
    line(out, "Policy enforcement", current.enablePolicy().toString().toLowerCase()
        + (c.policyAuditMode() ? " (audit mode)" : ""));
    line(out, "Config", config.lastAcceptedInForce()
        .map(ConfigHolder.LastAcceptedInForce::describe)
        .or(() -> config.lastRejection().map(r -> "last change REJECTED (" + r.errors().size()
            + " errors), previous in force"))
        .orElse("ok") + ", node-port-range " + nodePortRange);
    if (!pending.isEmpty()) {
      line(out, "Pending restart", String.join(", ", pending));
    }
    if (datapath != null) {
      line(out, "Datapath", "loaded, maps pinned under " + datapath.settings().pinRoot());
      line(out, "Socket LB", socketLoadBalancing + (socketLoadBalancing.startsWith("Enabled")
          ? ", " + datapath.socketTranslations() + " connects translated" : ""));
    }
    line(out, "Metrics", metricsServer);
    // What the informers hold, next to what was last written: a watch that misses changes shows
    // here as counts that differ from kubectl's.
    line(out, "Cluster state", watched.map(w -> "v" + w.version() + ": " + w.services().size()
        + " services, " + w.endpointSlices().size() + " endpoint slices, " + w.pods().size()
        + " pods, " + w.namespaces().size() + " namespaces, " + w.networkPolicies().size()
        + " network policies").orElse("none yet"));
    if (last == null) {
      line(out, "Last reconcile", "none yet");
    } else {
      line(out, "Last reconcile", "state v" + last.version() + " at " + lastTime + " (compile "
          + last.compileTime().toMillis() + " ms, write " + last.writeTime().toMillis() + " ms)");
      line(out, "Services", last.serviceTotals().services() + " services, "
          + last.serviceTotals().serviceEntries() + "/" + (datapath == null ? "?"
              : datapath.settings().lbMapMax()) + " lb4_services entries, "
          + last.serviceTotals().backends() + " backends");
      line(out, "Policy", last.desiredPolicy().endpoints().size() + " endpoints, "
          + last.desiredPolicy().entries().size() + " policy entries, "
          + last.desiredPolicy().identities().byId().size() + " identities");
      line(out, "Problems", last.problems().isEmpty() ? "none"
          : last.problems().size() + " (see Kubernetes Events with source anetd)");
    }
    if (policyLog != null) {
      line(out, "Policy action log", String.format("generated %d, written %d, dropped %d"
          + " (rate_limit %d, queue_full %d, write_error %d)", policyLog.generated(),
          policyLog.written(), policyLog.dropped(),
          policyLog.dropped(org.anetd.agent.logging.PolicyLoggingCounters.DropReason.RATE_LIMIT),
          policyLog.dropped(org.anetd.agent.logging.PolicyLoggingCounters.DropReason.QUEUE_FULL),
          policyLog.dropped(org.anetd.agent.logging.PolicyLoggingCounters.DropReason.WRITE_ERROR)));
    }
    return out.toString();
  }

  private static void line(StringBuilder out, String key, String value) {
    out.append(String.format("%-22s %s%n", key + ":", value));
  }
}
