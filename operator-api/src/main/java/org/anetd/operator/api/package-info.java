/**
 * The NetworkLogging API: the custom resource classes (the CRD YAML is generated from them) and
 * {@link org.anetd.operator.api.NetworkLoggingValidator}, the one set of checks that both the
 * operator and the agent run.
 *
 * <p>Depends only on the fabric8 model; nothing here knows java-operator-sdk, so the agent can
 * depend on this module without pulling in the operator.
 */
package org.anetd.operator.api;
