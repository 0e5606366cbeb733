package org.anetd.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide policy logging settings, as GKE Dataplane V2's {@code NetworkLogging}
 * ({@code networking.gke.io/v1alpha1}, cluster-scoped). Only the object named {@value #DEFAULT_NAME}
 * is honoured; the operator validates it and records the settings in force in
 * {@code status.appliedSpec}, which is what agents read.
 */
@Group(NetworkLogging.GROUP)
@Version(NetworkLogging.VERSION)
@Plural(NetworkLogging.PLURAL)
@Singular("networklogging")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Allow", jsonPath = ".status.appliedSpec.cluster.allow.log",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Deny", jsonPath = ".status.appliedSpec.cluster.deny.log",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class NetworkLogging extends CustomResource<NetworkLoggingSpec, NetworkLoggingStatus> {
  public static final String GROUP = "networking.gke.io";
  public static final String VERSION = "v1alpha1";
  public static final String PLURAL = "networkloggings";
  /** The one object name that is honoured. */
  public static final String DEFAULT_NAME = "default";

  /** A NetworkLogging with the given name and spec (for tests and tools). */
  public static NetworkLogging named(String name, NetworkLoggingSpec spec) {
    NetworkLogging nl = new NetworkLogging();
    nl.setMetadata(new ObjectMetaBuilder().withName(name).build());
    nl.setSpec(spec);
    return nl;
  }
}
