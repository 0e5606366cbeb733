/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking: one entry per direction of a connection, LRU-evicted. */
#ifndef ANETD_CT_H
#define ANETD_CT_H

#include "common.h"

#define CT_MAP_TCP_MAX_DEFAULT 524288
#define CT_MAP_ANY_MAX_DEFAULT 262144

/* ct4_key.flags */
#define CT_KEY_F_REPLY 0x01       /* entry describes the reply direction */
#define CT_KEY_F_SERVICE 0x02     /* entry keyed by the service frontend (pre-DNAT tuple) */

/*
 * A 5-tuple as the packet carries it, plus which side of the connection it is.
 * Mirrored by Ct4KeyCodec.
 */
struct ct4_key {
	__be32 daddr;       /* network byte order */
	__be32 saddr;       /* network byte order */
	__be16 dport;       /* network byte order; ICMP: echo id */
	__be16 sport;       /* network byte order; ICMP: echo id */
	__u8 nexthdr;       /* IPPROTO_* */
	__u8 flags;         /* CT_KEY_F_* */
	__u16 pad;
};
_Static_assert(sizeof(struct ct4_key) == 16, "ct4_key");

/* ct4_entry.flags */
#define CT_F_SEEN_REPLY 0x0001
#define CT_F_TX_CLOSING 0x0002   /* FIN or RST seen from the originator */
#define CT_F_RX_CLOSING 0x0004   /* FIN or RST seen from the replier */
#define CT_F_NODEPORT 0x0008     /* connection entered through a NodePort/external frontend */
#define CT_F_SNAT 0x0010         /* source was rewritten (nodeport SNAT or hairpin) */
#define CT_F_POLICY_ALLOWED 0x0020

/* Mirrored by Ct4EntryCodec. */
struct ct4_entry {
	__u64 expires_ns;   /* bpf_ktime_get_ns() after which the entry is dead */
	__u64 packets;
	__u64 bytes;
	__u32 backend_id;   /* service entries: the chosen backend */
	__be32 nat_addr;    /* the address rewritten (original dst or snat src), network order */
	__be16 nat_port;    /* network byte order */
	__u16 rev_nat_id;
	__u16 flags;        /* CT_F_* */
	__u16 policy_id;    /* policy set that allowed the connection, for logging */
};
_Static_assert(sizeof(struct ct4_entry) == 40, "ct4_entry");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_MAP_TCP_MAX_DEFAULT);
	__type(key, struct ct4_key);
	__type(value, struct ct4_entry);
} anetd_ct4_tcp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_MAP_ANY_MAX_DEFAULT);
	__type(key, struct ct4_key);
	__type(value, struct ct4_entry);
} anetd_ct4_any SEC(".maps");

#endif
