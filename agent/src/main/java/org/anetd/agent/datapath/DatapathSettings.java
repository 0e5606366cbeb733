package org.anetd.agent.datapath;

import java.nio.file.Path;

/**
 * What the loader needs from the configuration: where maps are pinned and how big they are
 * (cilium-config's bpf-lb-map-max, bpf-ct-global-tcp-max, bpf-ct-global-any-max,
 * bpf-policy-map-max), and the policy tunables set through rodata before load
 * ({@code policy_audit_mode} from policy-audit-mode; {@code policy_verdict_events}). Sizes are
 * fixed at map creation; a changed size meets the pinned map's old size at load and is reported
 * (see BpfObject#load). Tunables change only by loading the programs again.
 */
public record DatapathSettings(Path pinRoot, int lbMapMax, int ctTcpMax, int ctAnyMax,
    int policyMapMax, boolean policyAuditMode, boolean policyVerdictEvents) {
  public static final Path DEFAULT_PIN_ROOT = Path.of("/sys/fs/bpf/anetd");

  /** Enforcing policy (no audit mode), with verdict events. */
  public DatapathSettings(Path pinRoot, int lbMapMax, int ctTcpMax, int ctAnyMax,
      int policyMapMax) {
    this(pinRoot, lbMapMax, ctTcpMax, ctAnyMax, policyMapMax, false, true);
  }

  public static DatapathSettings defaults() {
    return new DatapathSettings(DEFAULT_PIN_ROOT, 65536, 524288, 262144, 16384);
  }

  public DatapathSettings withPinRoot(Path root) {
    return new DatapathSettings(root, lbMapMax, ctTcpMax, ctAnyMax, policyMapMax,
        policyAuditMode, policyVerdictEvents);
  }

  public DatapathSettings withLbMapMax(int max) {
    return new DatapathSettings(pinRoot, max, ctTcpMax, ctAnyMax, policyMapMax,
        policyAuditMode, policyVerdictEvents);
  }

  /** cilium-config policy-audit-mode: report denials but let them pass. */
  public DatapathSettings withPolicyAuditMode(boolean on) {
    return new DatapathSettings(pinRoot, lbMapMax, ctTcpMax, ctAnyMax, policyMapMax, on,
        policyVerdictEvents);
  }

  /** Whether the datapath reports policy verdicts on the event ring buffer. */
  public DatapathSettings withPolicyVerdictEvents(boolean on) {
    return new DatapathSettings(pinRoot, lbMapMax, ctTcpMax, ctAnyMax, policyMapMax,
        policyAuditMode, on);
  }
}
