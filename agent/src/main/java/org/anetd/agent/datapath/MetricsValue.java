package org.anetd.agent.datapath;

/** Packet and byte counts (one CPU's slot, or the sum over CPUs). See {@link MetricsValueCodec}. */
public record MetricsValue(long packets, long bytes) {
  public MetricsValue plus(MetricsValue o) {
    return new MetricsValue(packets + o.packets, bytes + o.bytes);
  }
}
