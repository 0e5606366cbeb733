package org.anetd.agent.k8s;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Names the Kubernetes Event for a problem, as Flink's EventUtils does: the same (reason, message,
 * object, node) always gives the same name, so a repeat - also after an agent restart - finds the
 * existing Event and bumps its count instead of creating another. The node is part of the name so
 * that each agent writes only its own Events and never races another node's.
 */
final class EventNames {
  /** A DNS-1123 subdomain, which every Event name must be. */
  static final int MAX_NAME_LENGTH = 253;
  /** Hex digits of the hash: 64 bits make a collision between live problems implausible. */
  static final int HASH_HEX_DIGITS = 16;
  private static final int MAX_PREFIX_LENGTH = MAX_NAME_LENGTH - HASH_HEX_DIGITS - 1;

  private EventNames() {}

  /** {@code <object name, made DNS-safe>.<16 hex digits of SHA-256 over all inputs>}. */
  static String eventName(Reason reason, String message, ObjectRef object, String nodeName) {
    return readablePrefix(object.name()) + "." + hash(reason.name(), message, object.kind(),
        object.namespace(), object.name(), nodeName);
  }

  /** Keeps {@code kubectl get events} readable: the object's name, reduced to [a-z0-9-]. */
  private static String readablePrefix(String objectName) {
    String lower = objectName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "-");
    String cut = lower.length() > MAX_PREFIX_LENGTH ? lower.substring(0, MAX_PREFIX_LENGTH) : lower;
    String trimmed = cut.replaceAll("^-+|-+$", "");
    return trimmed.isEmpty() ? "object" : trimmed;
  }

  /** Each field is length-prefixed so that ("ab", "c") and ("a", "bc") hash differently. */
  private static String hash(String... fields) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    for (String field : fields) {
      byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
      sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
      sha256.update(bytes);
    }
    return HexFormat.of().formatHex(sha256.digest()).substring(0, HASH_HEX_DIGITS);
  }
}
