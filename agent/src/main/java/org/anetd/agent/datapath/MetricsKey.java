package org.anetd.agent.datapath;

/** A counter bucket: verdict reason and direction. See {@link MetricsKeyCodec}. */
public record MetricsKey(int reason, int direction) {
  /** Reasons per direction in the counter array (METRICS_REASONS). */
  public static final int REASONS = 16;
  /** Counters in the array: every reason in both directions (METRICS_SLOTS). */
  public static final int SLOTS = 2 * REASONS;

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
  /**
   * A packet the datapath forwards itself (NodePort replies, SNATed connections) that is not GSO
   * and is longer than the egress interface's MTU.
   */
  public static final int REASON_FRAG_NEEDED = 11;
  /**
   * Not a packet: a policy verdict event the ring buffer had no room for (the policy action log
   * misses it); bytes 0.
   */
  public static final int REASON_VERDICT_EVENT_LOST = 12;

  public static final int DIR_INGRESS = 0;
  public static final int DIR_EGRESS = 1;

  public MetricsKey {
    if (reason < 0 || reason >= REASONS || (direction != DIR_INGRESS && direction != DIR_EGRESS)) {
      throw new IllegalArgumentException("no counter for reason " + reason + " direction "
          + direction);
    }
  }

  /** The index of this counter in anetd_metrics. */
  public int slot() {
    return direction * REASONS + reason;
  }

  public static MetricsKey ofSlot(int slot) {
    if (slot < 0 || slot >= SLOTS) {
      throw new IllegalArgumentException("no counter slot " + slot);
    }
    return new MetricsKey(slot % REASONS, slot / REASONS);
  }

  /** The reason's name as metrics and logs show it, e.g. "policy_denied". */
  public String reasonName() {
    return switch (reason) {
      case REASON_FORWARDED -> "forwarded";
      case REASON_POLICY_DENIED -> "policy_denied";
      case REASON_NO_SERVICE_BACKEND -> "no_service_backend";
      case REASON_CT_MAP_FULL -> "ct_map_full";
      case REASON_MALFORMED -> "malformed";
      case REASON_UNSUPPORTED_L3 -> "unsupported_l3";
      case REASON_STALE_SERVICE_CONNECTION -> "stale_service_connection";
      case REASON_NAT_FAILED -> "nat_failed";
      case REASON_POLICY_AUDITED -> "policy_audited";
      case REASON_SNAT_EXHAUSTED -> "snat_exhausted";
      case REASON_SOCK_LB_TRANSLATED -> "sock_lb_translated";
      case REASON_FRAG_NEEDED -> "frag_needed";
      case REASON_VERDICT_EVENT_LOST -> "verdict_event_lost";
      default -> "reason_" + reason;
    };
  }

  public String directionName() {
    return direction == DIR_INGRESS ? "ingress" : "egress";
  }
}
