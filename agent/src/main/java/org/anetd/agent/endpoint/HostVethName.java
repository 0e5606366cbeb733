package org.anetd.agent.endpoint;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The name of the host end of a pod's veth: "lxc" + the first 11 hex digits of
 * SHA-256(containerId/ifname), 14 characters (the kernel allows 15). Derived, not stored first:
 * a DEL after an agent crash can still find the veth an unfinished ADD created.
 */
public final class HostVethName {
  public static final String PREFIX = "lxc";
  static final int HEX_DIGITS = 11;

  private HostVethName() {}

  public static String of(AttachmentKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((key.containerId() + "/" + key.ifname()).getBytes(StandardCharsets.UTF_8));
      return PREFIX + HexFormat.of().formatHex(digest).substring(0, HEX_DIGITS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
