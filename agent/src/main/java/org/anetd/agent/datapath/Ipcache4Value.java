package org.anetd.agent.datapath;

/** Who an address belongs to. See {@link Ipcache4ValueCodec}. */
public record Ipcache4Value(long identity, Ipv4 nodeAddress, int endpointId) {
  public static final long IDENTITY_UNKNOWN = 0;
  public static final long IDENTITY_HOST = 1;
  public static final long IDENTITY_WORLD = 2;
  public static final long IDENTITY_REMOTE_NODE = 6;
  public static final long IDENTITY_FIRST_ALLOCATED = 256;
}
