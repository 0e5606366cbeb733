package org.anetd.agent.datapath;

/** A counter bucket: verdict reason and direction. See {@link MetricsKeyCodec}. */
public record MetricsKey(int reason, int direction) {
  public static final int REASON_FORWARDED = 0;
  public static final int REASON_POLICY_DENIED = 1;
  public static final int REASON_NO_SERVICE_BACKEND = 2;
  public static final int REASON_CT_MAP_FULL = 3;
  public static final int REASON_MALFORMED = 4;
  public static final int REASON_UNSUPPORTED_L3 = 5;
  /** A TCP connection whose backend was removed, or a reply whose service is gone. */
  public static final int REASON_STALE_SERVICE_CONNECTION = 6;
  /** A packet rewrite helper failed. */
  public static final int REASON_NAT_FAILED = 7;
  /**
   * Not a drop: the first packet of a connection policy denies, let through by audit mode
   * ({@code policy_audit_mode}); such packets are also counted as forwarded.
   */
  public static final int REASON_POLICY_AUDITED = 8;
  /** No free SNAT port for a connection from outside to a backend on another node. */
  public static final int REASON_SNAT_EXHAUSTED = 9;
  /**
   * Not a packet: a TCP connect() translated to a backend at the socket (bpf-lb-sock), counted
   * under {@link #DIR_EGRESS} with 0 bytes.
   */
  public static final int REASON_SOCK_LB_TRANSLATED = 10;

  public static final int DIR_INGRESS = 0;
  public static final int DIR_EGRESS = 1;
}
