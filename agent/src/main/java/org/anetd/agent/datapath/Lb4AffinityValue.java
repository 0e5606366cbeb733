package org.anetd.agent.datapath;

/** The backend a client sticks to and when it last used it. See {@link Lb4AffinityValueCodec}. */
public record Lb4AffinityValue(long lastUsedNs, long backendId) {}
