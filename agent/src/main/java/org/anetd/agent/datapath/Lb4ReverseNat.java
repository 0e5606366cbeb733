package org.anetd.agent.datapath;

/** The service address replies get back. See {@link Lb4ReverseNatCodec}; keyed by a u16 id. */
public record Lb4ReverseNat(Ipv4 address, int port) {}
