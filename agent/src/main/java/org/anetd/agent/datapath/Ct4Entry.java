package org.anetd.agent.datapath;

/** State of one tracked connection direction. See {@link Ct4EntryCodec}. */
public record Ct4Entry(long expiresNs, long packets, long bytes, long backendId, Ipv4 natAddress,
    int natPort, int revNatId, int flags, int policyId) {
  public static final int F_SEEN_REPLY = 0x0001;
  public static final int F_TX_CLOSING = 0x0002;
  public static final int F_RX_CLOSING = 0x0004;
  public static final int F_NODEPORT = 0x0008;
  public static final int F_SNAT = 0x0010;
  /** Policy entries: allowed by policy (absent when only audit mode let it pass). */
  public static final int F_POLICY_ALLOWED = 0x0020;
  /** Policy entries: the entry's tuple is the reply direction of its connection. */
  public static final int F_REPLY_DIR = 0x0040;
  /**
   * Policy entries: no service translates the connection per packet, so its TCP packets may skip
   * the service step. Absent (older agents' entries too) means the full path.
   */
  public static final int F_NO_XLATE = 0x0080;
  /** policy_id of a connection allowed by a policy set id above 0xfffe. */
  public static final int POLICY_ID_OVERFLOW = 0xffff;
}
