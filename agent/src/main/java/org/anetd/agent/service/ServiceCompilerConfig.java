package org.anetd.agent.service;

/**
 * The cilium-config values the service compiler reads.
 *
 * @param lbMapMax {@code bpf-lb-map-max}: max entries of lb4_services, lb4_backends and
 *     lb4_reverse_nat (the maps are created with this size, so the compiler must never ask for
 *     more)
 * @param nodePortRange {@code node-port-range}: nodePorts outside it are rejected, as the API
 *     server of this cluster would never have allocated them
 */
public record ServiceCompilerConfig(int lbMapMax, NodePortRange nodePortRange) {
  public static final int DEFAULT_LB_MAP_MAX = 65536;

  public ServiceCompilerConfig {
    if (lbMapMax < 1) {
      throw new IllegalArgumentException("lbMapMax must be at least 1, got " + lbMapMax);
    }
    if (nodePortRange == null) {
      throw new IllegalArgumentException("nodePortRange is required");
    }
  }

  public static ServiceCompilerConfig defaults() {
    return new ServiceCompilerConfig(DEFAULT_LB_MAP_MAX, NodePortRange.DEFAULT);
  }

  public ServiceCompilerConfig withLbMapMax(int max) {
    return new ServiceCompilerConfig(max, nodePortRange);
  }

  public ServiceCompilerConfig withNodePortRange(NodePortRange range) {
    return new ServiceCompilerConfig(lbMapMax, range);
  }

  /** An inclusive port range, {@code first-last} as in {@code node-port-range}. */
  public record NodePortRange(int first, int last) {
    public static final NodePortRange DEFAULT = new NodePortRange(30000, 32767);

    public NodePortRange {
      if (first < 1 || last > 65535 || first > last) {
        throw new IllegalArgumentException(
            "node port range must satisfy 1 <= first <= last <= 65535, got " + first + "-" + last);
      }
    }

    public boolean contains(int port) {
      return port >= first && port <= last;
    }

    @Override
    public String toString() {
      return first + "-" + last;
    }
  }
}
