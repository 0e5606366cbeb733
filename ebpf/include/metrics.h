/* SPDX-License-Identifier: Apache-2.0 */
/* Per-CPU packet and byte counters by verdict reason and direction. */
#ifndef ANETD_METRICS_H
#define ANETD_METRICS_H

#include "common.h"

/*
 * Reasons: 0 = forwarded, 1..7, 9 and 11 drop reasons, 8 audited, 10 socket translations, 12 lost
 * verdict events. Mirrored by the REASON_* constants of MetricsKey.
 */
#define REASON_FORWARDED 0
#define REASON_POLICY_DENIED 1
#define REASON_NO_SERVICE_BACKEND 2
#define REASON_CT_MAP_FULL 3
#define REASON_MALFORMED 4
#define REASON_UNSUPPORTED_L3 5
#define REASON_STALE_SERVICE_CONNECTION 6 /* TCP backend removed, or reply whose service is gone */
#define REASON_NAT_FAILED 7               /* a rewrite helper failed (no room, bad offsets) */
/*
 * Not a drop: the first packet of a connection policy denies, let through by policy_audit_mode.
 * Counted in addition to REASON_FORWARDED.
 */
#define REASON_POLICY_AUDITED 8
#define REASON_SNAT_EXHAUSTED 9           /* no free SNAT port for a connection to a remote backend */
/* Not a packet: a TCP connect() translated at the socket (bpf_sock, bpf-lb-sock); bytes 0. */
#define REASON_SOCK_LB_TRANSLATED 10
/*
 * A packet the datapath forwards itself (fib.h: NodePort replies, SNAT) that is not GSO and is
 * longer than the egress interface's MTU.
 */
#define REASON_FRAG_NEEDED 11
/*
 * Not a packet: a policy verdict event the ring buffer had no room for (the agent's reader fell
 * behind, or a flood of denied packets); the policy action log misses that verdict.
 */
#define REASON_VERDICT_EVENT_LOST 12

/*
 * Reasons 0..METRICS_REASONS-1 per direction: counter slot dir * METRICS_REASONS + reason of a
 * per-CPU array, whose lookup the verifier inlines (no hashing on every packet).
 * Mirrored by MetricsKey.slot().
 */
#define METRICS_REASONS 16
#define METRICS_SLOTS (2 * METRICS_REASONS)

/* Mirrored by MetricsValueCodec (one value per CPU; the reader sums them). */
struct metrics_value {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct metrics_value) == 16, "metrics_value");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, METRICS_SLOTS);
	__type(key, __u32);
	__type(value, struct metrics_value);
} anetd_metrics SEC(".maps");

static __always_inline void metrics_update(__u8 reason, __u8 dir, __u64 bytes)
{
	__u32 slot = (dir & 1) * METRICS_REASONS + (reason & (METRICS_REASONS - 1));
	struct metrics_value *val = bpf_map_lookup_elem(&anetd_metrics, &slot);

	if (val) {
		val->packets += 1; /* per-CPU slot: no atomics needed */
		val->bytes += bytes;
	}
}

/* Counts a dropped (or, for rejections, replaced) packet and returns TC_ACT_SHOT. */
static __always_inline int metrics_drop(__u8 reason, __u8 dir, __u64 bytes)
{
	metrics_update(reason, dir, bytes);
	return TC_ACT_SHOT;
}

#endif
