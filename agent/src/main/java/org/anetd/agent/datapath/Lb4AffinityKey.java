package org.anetd.agent.datapath;

/** A client's affinity to one service. See {@link Lb4AffinityKeyCodec}. */
public record Lb4AffinityKey(Ipv4 clientIp, int revNatId) {}
