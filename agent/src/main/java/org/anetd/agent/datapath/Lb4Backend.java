package org.anetd.agent.datapath;

/** A backend (pod address and target port). See {@link Lb4BackendCodec}; keyed by a u32 id. */
public record Lb4Backend(Ipv4 address, int port, Protocol protocol, int state) {
  public static final int STATE_ACTIVE = 0;
  public static final int STATE_TERMINATING = 1;
}
