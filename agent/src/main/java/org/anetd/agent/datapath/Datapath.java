package org.anetd.agent.datapath;

import java.io.IOException;
import java.nio.file.Files;
import org.anetd.agent.bpf.BpfException;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;

/**
 * The loaded datapath of one node: the pod programs (bpf_lxc.o) with every map sized from the
 * settings and pinned under the pin root, so that a restarted agent adopts the same maps and the
 * connections they track.
 */
public final class Datapath implements AutoCloseable {
  public static final String LB4_SERVICES = "anetd_lb4_services";
  public static final String LB4_BACKENDS = "anetd_lb4_backends";
  public static final String LB4_REVERSE_NAT = "anetd_lb4_reverse_nat";
  public static final String LB4_AFFINITY = "anetd_lb4_affinity";
  public static final String CT4_TCP = "anetd_ct4_tcp";
  public static final String CT4_ANY = "anetd_ct4_any";
  public static final String IPCACHE4 = "anetd_ipcache4";
  public static final String POLICY = "anetd_policy";
  public static final String ENDPOINTS = "anetd_endpoints";
  public static final String METRICS = "anetd_metrics";
  public static final String EVENTS = "anetd_events";

  /** Reverse NAT ids are __u16: the map never needs more entries than ids exist. */
  private static final int REV_NAT_IDS = 65535;

  private final DatapathSettings settings;
  private final BpfObject lxc;

  private Datapath(DatapathSettings settings, BpfObject lxc) {
    this.settings = settings;
    this.lxc = lxc;
  }

  /** Opens bpf_lxc.o from the agent jar, sizes and pins its maps, loads it. */
  public static Datapath load(DatapathSettings settings) {
    try {
      Files.createDirectories(settings.pinRoot());
    } catch (IOException e) {
      throw new BpfException("create pin directory " + settings.pinRoot() + ": " + e.getMessage(),
          e);
    }
    BpfObject lxc = BpfObject.openResource("bpf_lxc.o");
    try {
      lxc.setMaxEntries(LB4_SERVICES, settings.lbMapMax())
          .setMaxEntries(LB4_BACKENDS, settings.lbMapMax())
          .setMaxEntries(LB4_REVERSE_NAT, Math.min(settings.lbMapMax(), REV_NAT_IDS))
          .setMaxEntries(LB4_AFFINITY, settings.lbMapMax())
          .setMaxEntries(CT4_TCP, settings.ctTcpMax())
          .setMaxEntries(CT4_ANY, settings.ctAnyMax())
          .setRodataU32("policy_audit_mode", settings.policyAuditMode() ? 1 : 0)
          .setRodataU32("policy_verdict_events", settings.policyVerdictEvents() ? 1 : 0)
          .pinMapsUnder(settings.pinRoot())
          .load();
      return new Datapath(settings, lxc);
    } catch (RuntimeException e) {
      lxc.close();
      throw e;
    }
  }

  public DatapathSettings settings() {
    return settings;
  }

  public BpfMap map(String name) {
    return lxc.map(name);
  }

  public BpfProgram fromContainer() {
    return lxc.program("from_container");
  }

  public BpfProgram toContainer() {
    return lxc.program("to_container");
  }

  /** A writer over the load-balancer maps that adopts what they hold now. */
  public LoadBalancerWriter loadBalancerWriter() {
    return new LoadBalancerWriter(MapBackend.of(map(LB4_SERVICES)), MapBackend.of(map(LB4_BACKENDS)),
        MapBackend.of(map(LB4_REVERSE_NAT)));
  }

  /** A writer over the policy, endpoint and ipcache maps that adopts what they hold now. */
  public PolicyWriter policyWriter() {
    return new PolicyWriter(MapBackend.of(map(POLICY)), MapBackend.of(map(ENDPOINTS)),
        MapBackend.of(map(IPCACHE4)));
  }

  @Override
  public void close() {
    lxc.close();
  }
}
