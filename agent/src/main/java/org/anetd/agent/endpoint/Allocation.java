package org.anetd.agent.endpoint;

import java.time.Instant;
import org.anetd.agent.datapath.Ipv4;

/** One pod address handed out: to which attachment, for which pod, since when. */
public record Allocation(Ipv4 address, AttachmentKey key, PodRef pod, Instant allocatedAt) {}
