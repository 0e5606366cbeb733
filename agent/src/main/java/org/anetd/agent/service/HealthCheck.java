package org.anetd.agent.service;

import org.anetd.agent.k8s.ObjectRef;

/**
 * What the healthCheckNodePort of an externalTrafficPolicy=Local Service reports: the Service and
 * how many ready endpoints it has on this node (0 tells the cloud load balancer to avoid the
 * node).
 */
public record HealthCheck(ObjectRef service, int localEndpoints) {}
