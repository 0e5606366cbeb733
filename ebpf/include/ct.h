/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking: one entry per direction of a connection, LRU-evicted. */
#ifndef ANETD_CT_H
#define ANETD_CT_H

#include "common.h"
#include "pkt.h"

#define CT_MAP_TCP_MAX_DEFAULT 524288
#define CT_MAP_ANY_MAX_DEFAULT 262144

/* ct4_key.flags */
#define CT_KEY_F_REPLY 0x01       /* entry describes the reply direction */
#define CT_KEY_F_SERVICE 0x02     /* entry keyed by the service frontend (pre-DNAT tuple) */
/*
 * Policy entries (include/policy.h): one entry per connection and local endpoint, keyed by the
 * tuple as the endpoint itself sends it (before service translation), CT_KEY_F_POL_TX, which
 * both of its hooks compute for every packet of the connection. The pod's own address makes
 * entries unique per endpoint.
 */
#define CT_KEY_F_POL_TX 0x04      /* a tuple the endpoint sends (looked up by both hooks) */
#define CT_KEY_F_POL_RX 0x08      /* no longer written: the received tuple of older agents' pairs */

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
#define CT_F_POLICY_ALLOWED 0x0020 /* policy entries: allowed by policy (absent: audit mode) */
#define CT_F_REPLY_DIR 0x0040      /* policy entries: the key's tuple is the reply direction
				      (the peer opened the connection) */
/*
 * Policy entries: no service translates this connection per packet (it goes to a pod address, or
 * to the backend the socket load balancer chose at connect()): its TCP packets may skip the
 * service step (bpf_lxc.c). Absent means "take the full path", which is always correct: entries
 * of older agents, and every connection a service translates per packet (the endpoint is its
 * client, or the backend whose replies are translated back). Set only when an entry is created;
 * cleared as soon as a service is seen translating the connection.
 */
#define CT_F_NO_XLATE 0x0080

/* Flags that belong to one entry and are never mirrored into the other of a service pair. */
#define CT_F_PER_ENTRY (CT_F_REPLY_DIR | CT_F_NO_XLATE)

/*
 * Mirrored by Ct4EntryCodec.
 *
 * A service connection has two entries, written together by from_container on its first packet:
 *   forward  key {vip, client, vip port, client port, proto, CT_KEY_F_SERVICE}
 *            nat_addr:nat_port = the backend address:port the destination is rewritten to
 *   reply    key {client (or hairpin_ipv4), backend, client port, backend port, proto,
 *                 CT_KEY_F_REPLY}
 *            nat_addr:nat_port = the client address:port (with CT_F_SNAT the destination of
 *            replies is restored to it)
 * Both carry backend_id, rev_nat_id and the same flags and expiry: a packet that changes the
 * state, or moves the expiry by a second or more, refreshes both (ct4_account).
 *
 * A policy entry (include/policy.h) is written by the first hook of a local endpoint that sees a
 * connection, under {what the endpoint sends, CT_KEY_F_POL_TX}; both directions count in it.
 * CT_F_REPLY_DIR marks a connection the peer opened (that key's direction answers).
 * backend_id and rev_nat_id are 0, policy_id names the allowing policy set.
 */
struct ct4_entry {
	__u64 expires_ns;   /* anetd_now() after which the entry is dead */
	__u64 packets;
	__u64 bytes;
	__u32 backend_id;   /* service entries (both directions): the chosen backend */
	__be32 nat_addr;    /* forward: backend address; reply: client address; network order */
	__be16 nat_port;    /* network byte order */
	__u16 rev_nat_id;
	__u16 flags;        /* CT_F_* */
	__u16 policy_id;    /* policy entries: policy set that allowed the connection, for logging;
			     * ids above 0xfffe are stored as CT_POLICY_ID_OVERFLOW */
};
_Static_assert(sizeof(struct ct4_entry) == 40, "ct4_entry");

/* ct4_entry.policy_id of a connection allowed by a policy set id that does not fit 16 bits. */
#define CT_POLICY_ID_OVERFLOW 0xffff

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

/*
 * Lifetimes in seconds, refreshed by the packets of a connection (to within
 * CT_REFRESH_SLACK_NS); an expired entry is treated as absent (a forward packet then opens a new
 * connection). Defaults and names follow cilium-config's bpf-ct-timeout-regular-* keys.
 */
const volatile __u32 ct_timeout_tcp_syn_s = 60;   /* TCP until a reply is seen (-tcp-syn) */
const volatile __u32 ct_timeout_tcp_s = 21600;    /* established TCP (-tcp) */
const volatile __u32 ct_timeout_tcp_fin_s = 10;   /* FIN from both sides, or a RST (-tcp-fin) */
const volatile __u32 ct_timeout_any_s = 60;       /* UDP and ICMP echo (-any) */

#define NSEC_PER_SEC 1000000000ULL
#define CT_F_CLOSING (CT_F_TX_CLOSING | CT_F_RX_CLOSING)

static __always_inline struct ct4_entry *ct4_lookup(__u8 proto, const struct ct4_key *key)
{
	if (proto == IPPROTO_TCP)
		return bpf_map_lookup_elem(&anetd_ct4_tcp, key);
	return bpf_map_lookup_elem(&anetd_ct4_any, key);
}

static __always_inline long ct4_update(__u8 proto, const struct ct4_key *key,
				       const struct ct4_entry *e)
{
	if (proto == IPPROTO_TCP)
		return bpf_map_update_elem(&anetd_ct4_tcp, key, e, BPF_ANY);
	return bpf_map_update_elem(&anetd_ct4_any, key, e, BPF_ANY);
}

static __always_inline void ct4_delete(__u8 proto, const struct ct4_key *key)
{
	if (proto == IPPROTO_TCP)
		bpf_map_delete_elem(&anetd_ct4_tcp, key);
	else
		bpf_map_delete_elem(&anetd_ct4_any, key);
}

/* The key of a packet's own tuple. */
static __always_inline void ct4_key_of(struct ct4_key *k, const struct pkt4 *p, __u8 flags)
{
	k->daddr = p->daddr;
	k->saddr = p->saddr;
	k->dport = p->dport;
	k->sport = p->sport;
	k->nexthdr = p->proto;
	k->flags = flags;
	k->pad = 0;
}

/* The key of a tuple given field by field (the other direction of a connection). */
static __always_inline void ct4_key_set(struct ct4_key *k, __be32 daddr, __be32 saddr,
					__be16 dport, __be16 sport, __u8 proto, __u8 flags)
{
	k->daddr = daddr;
	k->saddr = saddr;
	k->dport = dport;
	k->sport = sport;
	k->nexthdr = proto;
	k->flags = flags;
	k->pad = 0;
}

static __always_inline __u64 ct4_lifetime_ns(__u8 proto, __u16 flags)
{
	__u32 s;

	if (proto != IPPROTO_TCP)
		s = ct_timeout_any_s;
	else if ((flags & CT_F_CLOSING) == CT_F_CLOSING)
		s = ct_timeout_tcp_fin_s;
	else if (!(flags & CT_F_SEEN_REPLY))
		s = ct_timeout_tcp_syn_s;
	else
		s = ct_timeout_tcp_s;
	return (__u64)s * NSEC_PER_SEC;
}

/*
 * State a packet adds to its connection. A RST closes both sides; a FIN closes the side that
 * sent it, so a half-closed connection keeps its established lifetime until the other FIN.
 */
static __always_inline __u16 ct4_flags_of(const struct pkt4 *p, int is_reply)
{
	__u16 f = is_reply ? CT_F_SEEN_REPLY : 0;

	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCPF_RST)
			f |= CT_F_CLOSING;
		else if (p->tcp_flags & TCPF_FIN)
			f |= is_reply ? CT_F_RX_CLOSING : CT_F_TX_CLOSING;
	}
	return f;
}

static __always_inline int ct4_expired(const struct ct4_entry *e, __u64 now)
{
	return e->expires_ns <= now;
}

/* A pure SYN on a closed (or closing) connection reuses its tuple for a new connection. */
static __always_inline int ct4_reopens(const struct ct4_entry *e, const struct pkt4 *p)
{
	return pkt4_is_tcp_syn(p) && (e->flags & CT_F_CLOSING);
}

/*
 * flags and policy_id share one aligned 32-bit word. Packets of one connection are counted on
 * several CPUs at once (the client's and the server's), and a plain write of flags would lose a
 * bit another CPU set meanwhile (a FIN, or the clearing of CT_F_NO_XLATE); BPF atomics work on
 * 32- and 64-bit words only, so flag bits are set and cleared with atomic OR / AND on that word.
 */
typedef __u32 __attribute__((__may_alias__)) ct4_flags_word_t;
_Static_assert(__builtin_offsetof(struct ct4_entry, flags) % 4 == 0 &&
	       __builtin_offsetof(struct ct4_entry, policy_id) ==
	       __builtin_offsetof(struct ct4_entry, flags) + 2, "flags word");

static __always_inline __u32 ct4_flags_word_bits(__u16 f)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return f;
#else
	return (__u32)f << 16;
#endif
}

/* Sets the flag bits f of e that are not set yet, atomically. */
static __always_inline void ct4_set_flags(struct ct4_entry *e, __u16 f)
{
	if ((e->flags & f) != f)
		__sync_fetch_and_or((ct4_flags_word_t *)&e->flags, ct4_flags_word_bits(f));
}

/* Clears CT_F_NO_XLATE of a policy entry: a service translates its connection per packet. */
static __always_inline void ct4_translated(struct ct4_entry *e)
{
	if (e->flags & CT_F_NO_XLATE)
		__sync_fetch_and_and((ct4_flags_word_t *)&e->flags,
				     ~ct4_flags_word_bits(CT_F_NO_XLATE));
}

/*
 * A service connection was just set up with reply entry reply_key, whose tuple is what the
 * backend sends: if the backend is a local endpoint that already tracks that tuple (a flow it had
 * with the same client port straight to its address), its policy entry now needs the service step
 * for its replies. New policy entries find the service entries themselves (policy.h).
 */
static __always_inline void ct4_mark_translated(__u8 proto, const struct ct4_key *reply_key)
{
	struct ct4_key k = *reply_key;

	k.flags = CT_KEY_F_POL_TX;
	struct ct4_entry *e = ct4_lookup(proto, &k);

	if (e)
		ct4_translated(e);
}

/*
 * An entry whose state is unchanged keeps its expiry unless the refresh would move it by at
 * least this much: most packets then write nothing but their own counters, and the entry of the
 * other direction (counted on another CPU) is not written by every packet. An idle connection
 * thus expires up to this much earlier than its lifetime after its last packet.
 */
#define CT_REFRESH_SLACK_NS NSEC_PER_SEC

/* Whether e needs writing to carry flags (shared part) and expires. */
static __always_inline int ct4_stale(const struct ct4_entry *e, __u16 flags, __u64 expires)
{
	return (e->flags & ~CT_F_PER_ENTRY) != flags ||
	       expires - e->expires_ns >= CT_REFRESH_SLACK_NS; /* also when expires went back */
}

/*
 * Accounts a packet in its direction's entry and mirrors the connection state into the other
 * direction's entry (key peer_key, when there is one; NULL for policy entries, which hold both
 * directions), so both directions expire together.
 * Both entries get every state change (the pair is written together), so the shared flags of
 * own already hold the other direction's: as long as own needs no write, neither does the
 * other entry, and it is not even looked up. When own needs one (new state, or its expiry moves
 * by CT_REFRESH_SLACK_NS), the other entry's flags are merged in and both are refreshed.
 */
static __always_inline void ct4_account(struct ct4_entry *own, const struct ct4_key *peer_key,
					__u16 add, __u8 proto, __u32 bytes, __u64 now)
{
	__u16 flags = (own->flags | add) & ~CT_F_PER_ENTRY;
	__u64 expires = now + ct4_lifetime_ns(proto, flags);

	__sync_fetch_and_add(&own->packets, 1);
	__sync_fetch_and_add(&own->bytes, bytes);
	if (!ct4_stale(own, flags, expires))
		return;

	struct ct4_entry *peer = peer_key ? ct4_lookup(proto, peer_key) : NULL;

	if (peer) {
		flags |= peer->flags & ~CT_F_PER_ENTRY;
		expires = now + ct4_lifetime_ns(proto, flags);
	}
	/* flags holds every shared bit own and peer had: setting them loses none set meanwhile */
	ct4_set_flags(own, flags);
	own->expires_ns = expires;
	if (peer && ct4_stale(peer, flags, expires)) {
		ct4_set_flags(peer, flags);
		peer->expires_ns = expires;
	}
}

#endif
