package org.anetd.agent.datapath;

/**
 * A frontend slot's value. On the master slot (0): {@code count} backend slots, {@code flags},
 * and in {@code backendId} the affinity timeout in seconds. On slots 1..count: the backend id.
 * See {@link Lb4ServiceCodec}.
 */
public record Lb4Service(long backendId, int count, int revNatId, int flags) {
  public static final int F_AFFINITY = 0x01;
  public static final int F_ETP_LOCAL = 0x02;
  public static final int F_ITP_LOCAL = 0x04;
  public static final int F_NODEPORT = 0x08;
  public static final int F_EXTERNAL = 0x10;
  public static final int F_NO_BACKENDS = 0x20;

  public static Lb4Service master(int count, int revNatId, int flags, long affinityTimeoutSeconds) {
    return new Lb4Service(affinityTimeoutSeconds, count, revNatId, flags);
  }

  public static Lb4Service slot(long backendId, int revNatId, int flags) {
    return new Lb4Service(backendId, 0, revNatId, flags);
  }
}
