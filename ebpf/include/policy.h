/* SPDX-License-Identifier: Apache-2.0 */
/* Per-endpoint NetworkPolicy entries, looked up by peer identity, direction, protocol and port. */
#ifndef ANETD_POLICY_H
#define ANETD_POLICY_H

#include "common.h"

#define POLICY_MAP_MAX_DEFAULT 16384

/*
 * The prefix always covers endpoint_id, identity and direction (POLICY_PREFIX_BASE bits);
 * +8 bits when the protocol is set; then up to 16 bits of dport, so a port range
 * (endPort) becomes a few prefix entries. identity 0 means any peer and is a second lookup.
 * Mirrored by PolicyKeyCodec.
 */
struct policy_key {
	__u32 prefixlen;    /* LPM prefix length in bits over the fields below, host order */
	__u32 endpoint_id;  /* big endian: LPM compares bytes in order */
	__u32 identity;     /* big endian */
	__u8 direction;     /* DIR_INGRESS / DIR_EGRESS */
	__u8 proto;         /* 0 = any */
	__be16 dport;       /* network byte order */
};
_Static_assert(sizeof(struct policy_key) == 16, "policy_key");

#define POLICY_PREFIX_BASE (32 + 32 + 8)
#define POLICY_PREFIX_FULL (POLICY_PREFIX_BASE + 8 + 16)

/* policy_entry.verdict */
#define POLICY_ALLOW 1

/* endpoint_policy.flags: which directions are isolated (default deny) for an endpoint. */
#define EP_F_INGRESS_ISOLATED 0x01
#define EP_F_EGRESS_ISOLATED 0x02

/* Mirrored by PolicyEntryCodec. */
struct policy_entry {
	__u32 policy_set_id; /* agent-side id of the list of policies that allow, for logging */
	__u8 verdict;        /* POLICY_ALLOW */
	__u8 log;            /* log allows of this entry (delegate mode) */
	__u16 pad;
};
_Static_assert(sizeof(struct policy_entry) == 8, "policy_entry");

/* Mirrored by EndpointPolicyCodec. Key: __u32 endpoint id. */
struct endpoint_policy {
	__u32 identity;      /* the endpoint's own identity */
	__u8 flags;          /* EP_F_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct endpoint_policy) == 8, "endpoint_policy");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, POLICY_MAP_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct policy_key);
	__type(value, struct policy_entry);
} anetd_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct endpoint_policy);
} anetd_endpoints SEC(".maps");

/*
 * Where NetworkPolicy plugs in (issue #5); both hooks allow everything for now.
 * policy_egress_hook runs in from_container after service translation (policy sees the backend,
 * not the VIP); policy_ingress_hook runs in to_container before delivery. They return a tc
 * verdict and, for a drop, set *reason (REASON_POLICY_DENIED).
 */
static __always_inline int policy_egress_hook(struct __sk_buff *skb, __u8 *reason)
{
	return TC_ACT_OK;
}

static __always_inline int policy_ingress_hook(struct __sk_buff *skb, __u8 *reason)
{
	return TC_ACT_OK;
}

#endif
