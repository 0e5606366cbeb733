package org.anetd.agent.endpoint;

/**
 * A CNI error result: {"cniVersion", "code", "msg", "details"}. Codes below 100 are the spec's
 * well-known ones; 100 and up are anetd's own.
 */
public record CniError(int code, String msg, String details) {
  public static final int INCOMPATIBLE_VERSION = 1;
  public static final int UNSUPPORTED_FIELD = 2;
  public static final int UNKNOWN_CONTAINER = 3;
  public static final int INVALID_ENVIRONMENT = 4;
  public static final int IO_FAILURE = 5;
  public static final int DECODE_FAILURE = 6;
  public static final int INVALID_CONFIG = 7;
  public static final int TRY_AGAIN_LATER = 11;
  public static final int NOT_AVAILABLE = 50;
  public static final int NOT_AVAILABLE_LIMITED_CONNECTIVITY = 51;

  /** No free pod address in the node's pod CIDR. */
  public static final int POOL_EXHAUSTED = 100;
  /** CNI_IFNAME already exists in the pod (the spec requires ADD to fail then). */
  public static final int INTERFACE_EXISTS = 101;
  /** CHECK found the endpoint missing or different from what ADD made. */
  public static final int CHECK_FAILED = 102;
  /** The agent failed wiring the endpoint (a command, the datapath, the state directory). */
  public static final int AGENT_FAILURE = 103;
  /** GC could not remove every stale attachment. */
  public static final int GC_INCOMPLETE = 104;
}
