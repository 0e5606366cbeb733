/**
 * Observability of the agent: every Prometheus metric it exports is defined in
 * {@link org.anetd.agent.metrics.AgentMetrics} (one place, one vocabulary), served on :9962 by
 * {@link org.anetd.agent.metrics.MetricsServer}; liveness and readiness are served on :9879 by
 * {@link org.anetd.agent.metrics.HealthServer}. Rooms report into it; it depends on none of them.
 */
package org.anetd.agent.metrics;
