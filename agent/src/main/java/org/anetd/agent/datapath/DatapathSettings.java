package org.anetd.agent.datapath;

import java.nio.file.Path;

/**
 * What the loader needs from the configuration: where maps are pinned and how big they are
 * (cilium-config's bpf-lb-map-max, bpf-ct-global-tcp-max, bpf-ct-global-any-max,
 * bpf-policy-map-max). Sizes are fixed at map creation; a changed size meets the pinned map's
 * old size at load and is reported (see BpfObject#load).
 */
public record DatapathSettings(Path pinRoot, int lbMapMax, int ctTcpMax, int ctAnyMax,
    int policyMapMax) {
  public static final Path DEFAULT_PIN_ROOT = Path.of("/sys/fs/bpf/anetd");

  public static DatapathSettings defaults() {
    return new DatapathSettings(DEFAULT_PIN_ROOT, 65536, 524288, 262144, 16384);
  }

  public DatapathSettings withPinRoot(Path root) {
    return new DatapathSettings(root, lbMapMax, ctTcpMax, ctAnyMax, policyMapMax);
  }

  public DatapathSettings withLbMapMax(int max) {
    return new DatapathSettings(pinRoot, max, ctTcpMax, ctAnyMax, policyMapMax);
  }
}
