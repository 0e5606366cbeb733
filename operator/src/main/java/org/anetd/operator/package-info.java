/**
 * The cluster operator (java-operator-sdk). {@link org.anetd.operator.OperatorMain} registers two
 * reconcilers: {@link org.anetd.operator.NetworkLoggingReconciler} (validation, status and Events
 * for NetworkLogging) and {@link org.anetd.operator.CiliumConfigReconciler} (advisory Events for
 * kube-system/cilium-config, which it never changes).
 *
 * <p>Depends on {@code org.anetd.operator.api} for the resource and its validator; status is
 * computed by the pure {@link org.anetd.operator.NetworkLoggingStatusAggregator}.
 */
package org.anetd.operator;
