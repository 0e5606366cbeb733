package org.anetd.agent.datapath;

/**
 * One direction of a SNATed NodePort connection: where the packet's address and port are
 * rewritten to (out: the node address and SNAT port; in: the client), and until when the entry
 * holds its port. See {@link Snat4EntryCodec}.
 */
public record Snat4Entry(long expiresNs, Ipv4 toAddress, int toPort) {}
