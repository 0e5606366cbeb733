/* SPDX-License-Identifier: Apache-2.0 */
/* Events from the datapath to the agent: policy verdicts, drops, traces. */
#ifndef ANETD_EVENTS_H
#define ANETD_EVENTS_H

#include "common.h"

#define EVENT_POLICY_VERDICT 1
#define EVENT_DROP 2
#define EVENT_TRACE 3

/* Mirrored by EventCodec. */
struct event {
	__u64 timestamp_ns;  /* anetd_now() (common.h) */
	__be32 saddr;        /* network byte order, as on the wire at the verdict point */
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 type;           /* EVENT_* */
	__u8 proto;
	__u8 direction;      /* DIR_* relative to endpoint_id */
	__u8 verdict;        /* 1 allow, 0 deny */
	__u32 endpoint_id;
	__u32 remote_identity;
	__u32 policy_set_id;
	__u32 reason;        /* REASON_* for drops */
	__u32 pad;
};
_Static_assert(sizeof(struct event) == 48, "event");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} anetd_events SEC(".maps");

#endif
