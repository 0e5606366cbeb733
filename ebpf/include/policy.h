/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy: per-endpoint allow entries looked up by peer identity, direction, protocol and
 * port, and the two hooks that enforce them with conntrack (docs/dev/policy-datapath.md).
 * The lookup mirrors org.anetd.agent.policy.PolicyLookup.
 */
#ifndef ANETD_POLICY_H
#define ANETD_POLICY_H

#include "common.h"
#include "metrics.h"
#include "pkt.h"
#include "nat.h"
#include "ct.h"
#include "ipcache.h"
#include "events.h"

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
 * Tunables (const volatile, set through rodata before load).
 * The enable-policy mode is not a tunable: the agent encodes it in endpoint_policy.flags
 * (always = both directions isolated, never = no flags), see docs/dev/policy-datapath.md.
 */
const volatile __u32 policy_verdict_events = 1; /* 1: an EVENT_POLICY_VERDICT per evaluated
						   connection in an isolated direction; 0: none */
const volatile __u32 policy_audit_mode = 0;     /* 1: report denials but let them pass
						   (cilium-config policy-audit-mode) */

/*
 * One policy decision at one hook. from_container fills it after service translation,
 * to_container as the packet is delivered.
 */
struct policy_ctx {
	struct pkt4 wire;      /* the packet as policy judges it: after translation */
	struct ct4_key key;    /* the connection's policy conntrack key: the tuple as the endpoint
				  sends it, CT_KEY_F_POL_TX, whichever hook and direction */
	__u64 now;
	__be32 orig_saddr;     /* egress: the source before translation (the sending pod) */
	__u32 len;
	__u8 dir;              /* DIR_EGRESS in from_container, DIR_INGRESS in to_container */
	__u8 reason;           /* out: REASON_* to count */
	__u8 translated;       /* egress: the service step rewrote the packet (wire != as sent) */
	__u8 pad;
};

/* The identity of an address (world when the ipcache has no prefix for it). */
static __always_inline __u32 policy_identity_of(__be32 addr)
{
	struct ipcache4_key k = { .prefixlen = 32, .address = addr };
	struct ipcache4_value *v = bpf_map_lookup_elem(&anetd_ipcache4, &k);

	return v ? v->identity : IDENTITY_WORLD;
}

/* The local endpoint id of an address, 0 when it is not a pod of this node. */
static __always_inline __u32 policy_endpoint_of(__be32 addr)
{
	struct ipcache4_key k = { .prefixlen = 32, .address = addr };
	struct ipcache4_value *v = bpf_map_lookup_elem(&anetd_ipcache4, &k);

	return v ? v->endpoint_id : 0;
}

/*
 * The allow entry for (endpoint, peer identity, direction, proto, dport), else for any peer
 * (identity 0), else NULL. ICMP has no port: dport 0, so only all-ports entries match it.
 * The key bytes are PolicyKeyCodec's: ids big endian, dport in network order.
 */
static __always_inline struct policy_entry *policy_lookup(__u32 ep, __u32 identity, __u8 dir,
							  const struct pkt4 *p)
{
	struct policy_key k = {
		.prefixlen = POLICY_PREFIX_FULL,
		.endpoint_id = bpf_htonl(ep),
		.identity = bpf_htonl(identity),
		.direction = dir,
		.proto = p->proto,
		.dport = p->proto == IPPROTO_ICMP ? 0 : p->dport,
	};
	struct policy_entry *e = bpf_map_lookup_elem(&anetd_policy, &k);

	if (e && e->verdict == POLICY_ALLOW)
		return e;
	k.identity = 0;
	e = bpf_map_lookup_elem(&anetd_policy, &k);
	return e && e->verdict == POLICY_ALLOW ? e : NULL;
}

/* Reports one verdict on the ring buffer (when policy_verdict_events is on). */
static __always_inline void policy_report(const struct policy_ctx *c, __u32 ep, __u32 remote,
					  __u32 set_id, __u8 allowed, __u8 reason)
{
	/* a later fragment's verdict is its first fragment's, which was reported */
	if (!policy_verdict_events || c->wire.later_fragment)
		return;
	struct event *e = bpf_ringbuf_reserve(&anetd_events, sizeof(*e), 0);

	if (!e) {
		/* ring full: counted, so the log's gap shows in the agent's metrics */
		metrics_update(REASON_VERDICT_EVENT_LOST, c->dir, 0);
		return;
	}
	e->timestamp_ns = c->now;
	e->saddr = c->wire.saddr;
	e->daddr = c->wire.daddr;
	e->sport = c->wire.proto == IPPROTO_ICMP ? 0 : c->wire.sport;
	e->dport = c->wire.proto == IPPROTO_ICMP ? 0 : c->wire.dport;
	e->type = EVENT_POLICY_VERDICT;
	e->proto = c->wire.proto;
	e->direction = c->dir;
	e->verdict = allowed;
	e->endpoint_id = ep;
	e->remote_identity = remote;
	e->policy_set_id = set_id;
	e->reason = reason;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
}

/*
 * A hairpinned service connection seen at to_container: source hairpin_ipv4, and the service
 * reply entry of that tuple says the client is the destination itself (CT_F_SNAT).
 */
static __always_inline int policy_is_hairpin_in(const struct policy_ctx *c)
{
	struct ct4_key k;
	struct ct4_entry *e;

	if (c->wire.saddr != bpf_htonl(hairpin_ipv4))
		return 0;
	ct4_key_set(&k, c->wire.saddr, c->wire.daddr, c->wire.sport, c->wire.dport, c->wire.proto,
		    CT_KEY_F_REPLY);
	e = ct4_lookup(c->wire.proto, &k);
	return e && !ct4_expired(e, c->now) && (e->flags & CT_F_SNAT) &&
	       e->nat_addr == c->wire.daddr;
}

/*
 * A live policy entry that packet wire continues: not expired, and not a new connection on the
 * tuple of a closed one.
 */
static __always_inline int policy_continues(const struct ct4_entry *e, const struct pkt4 *wire,
					    __u64 now)
{
	return e && !ct4_expired(e, now) && !ct4_reopens(e, wire);
}

/*
 * Counts a packet that hook dir sees in the endpoint's policy entry e of its connection;
 * translated: the service step rewrote it (e.g. a SYN retried once its frontend appeared), so the
 * connection leaves the fast path.
 */
static __always_inline void policy_account(struct ct4_entry *e, __u8 dir,
					   const struct pkt4 *wire, int translated, __u32 len,
					   __u64 now)
{
	/* CT_F_REPLY_DIR: the key's direction (endpoint -> peer) answers, the peer opened */
	int opened_inbound = !!(e->flags & CT_F_REPLY_DIR);
	int reply = (dir == DIR_EGRESS) == opened_inbound;

	if (translated)
		ct4_translated(e);
	ct4_account(e, NULL, ct4_flags_of(wire, reply), wire->proto, len, now);
}

/*
 * Whether a service translates connection c (seen at ingress) per packet: a service entry of the
 * key's tuple (what the endpoint sends) exists, the reply entry when the endpoint is the backend
 * (written before the first packet reaches it: service.h, nodeport.h), the forward entry when it
 * is the client (whose own entry is made again here when it was lost).
 */
static __always_inline int policy_service_translates(const struct policy_ctx *c)
{
	struct ct4_key k = c->key;
	struct ct4_entry *e;

	k.flags = CT_KEY_F_REPLY;
	e = ct4_lookup(c->wire.proto, &k);
	if (e && !ct4_expired(e, c->now))
		return 1;
	k.flags = CT_KEY_F_SERVICE;
	e = ct4_lookup(c->wire.proto, &k);
	return e && !ct4_expired(e, c->now);
}

/*
 * The policy step of one hook. Returns the tc verdict and sets c->reason.
 *
 *   tracked   the endpoint has a live policy entry for this connection (one key for both
 *             hooks and directions: the tuple as the endpoint sends it): account, pass.
 *   untracked the address of this side is not a local endpoint (no ipcache endpoint id): pass,
 *             nothing written.
 *   self      a pod reaching itself through its own service (hairpin): pass, no verdict.
 *   new       endpoint not isolated in this direction: pass. Isolated: look up the allow entry
 *             (peer identity, then any peer); report the verdict; deny drops it
 *             (REASON_POLICY_DENIED) unless policy_audit_mode, which lets it pass.
 *             Every passing new connection writes the endpoint's policy entry, so later packets
 *             and replies (at both hooks of this endpoint) are not evaluated again and a policy
 *             change never cuts a connection that was allowed when it started.
 */
static __noinline int policy_enforce(struct policy_ctx *c)
{
	__u8 proto = c->wire.proto;
	struct ct4_entry *e = ct4_lookup(proto, &c->key);

	c->reason = REASON_FORWARDED;
	if (policy_continues(e, &c->wire, c->now)) {
		policy_account(e, c->dir, &c->wire, c->translated, c->len, c->now);
		return TC_ACT_OK;
	}

	__u32 ep, remote, set_id = 0;
	int self;

	ep = policy_endpoint_of(c->dir == DIR_EGRESS ? c->orig_saddr : c->wire.daddr);
	if (!ep)
		return TC_ACT_OK;
	if (c->dir == DIR_EGRESS) {
		remote = policy_identity_of(c->wire.daddr);
		self = c->orig_saddr == c->wire.daddr; /* DNATed to itself: hairpin */
	} else {
		remote = policy_identity_of(c->wire.saddr);
		self = policy_is_hairpin_in(c);
	}

	__u16 flags = CT_F_POLICY_ALLOWED;

	if (!self) {
		struct endpoint_policy *epp = bpf_map_lookup_elem(&anetd_endpoints, &ep);
		__u8 isolated = c->dir == DIR_EGRESS ? EP_F_EGRESS_ISOLATED : EP_F_INGRESS_ISOLATED;

		if (epp && (epp->flags & isolated)) {
			struct policy_entry *pe = policy_lookup(ep, remote, c->dir, &c->wire);

			if (pe) {
				set_id = pe->policy_set_id;
				policy_report(c, ep, remote, set_id, 1, REASON_FORWARDED);
			} else if (policy_audit_mode) {
				flags = 0;
				policy_report(c, ep, remote, 0, 0, REASON_POLICY_AUDITED);
				metrics_update(REASON_POLICY_AUDITED, c->dir, c->len);
			} else {
				policy_report(c, ep, remote, 0, 0, REASON_POLICY_DENIED);
				c->reason = REASON_POLICY_DENIED;
				return TC_ACT_SHOT;
			}
		}
	}

	flags |= ct4_flags_of(&c->wire, 0);
	if (c->dir == DIR_INGRESS)
		flags |= CT_F_REPLY_DIR; /* opened by the peer: what the endpoint sends answers */
	if (!(c->dir == DIR_EGRESS ? c->translated : policy_service_translates(c)))
		flags |= CT_F_NO_XLATE;
	struct ct4_entry v = {
		.expires_ns = c->now + ct4_lifetime_ns(proto, flags),
		.packets = 1,
		.bytes = c->len,
		.flags = flags,
		.policy_id = set_id < CT_POLICY_ID_OVERFLOW ? set_id : CT_POLICY_ID_OVERFLOW,
	};

	if (e && !ct4_expired(e, c->now)) {
		/*
		 * the closed connection before it on this tuple (ports come round), not expired yet, so
		 * no GC deletes it under us: rewritten where it is, not replaced by a new LRU element
		 */
		*e = v;
		return TC_ACT_OK;
	}
	if (ct4_update(proto, &c->key, &v) < 0) {
		c->reason = REASON_CT_MAP_FULL;
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/*
 * Egress policy, in from_container after service translation: orig is the packet as the pod
 * sent it (the conntrack view), p as it leaves (the policy view: the backend, not the VIP).
 */
static __always_inline int policy_egress_hook(const struct pkt4 *orig, const struct pkt4 *p,
					      __u32 len, __u64 now, __u8 *reason)
{
	struct policy_ctx c = { .wire = *p, .now = now, .orig_saddr = orig->saddr,
				.len = len, .dir = DIR_EGRESS,
				.translated = !pkt4_same_tuple(orig, p) };

	ct4_key_of(&c.key, orig, CT_KEY_F_POL_TX);
	int verdict = policy_enforce(&c);

	*reason = c.reason;
	return verdict;
}

/* Ingress policy, in to_container: p is the packet as it is delivered to the pod. */
static __always_inline int policy_ingress_hook(const struct pkt4 *p, __u32 len, __u64 now,
					       __u8 *reason)
{
	struct policy_ctx c = { .wire = *p, .now = now, .orig_saddr = p->saddr,
				.len = len, .dir = DIR_INGRESS };

	/* the received tuple reversed: what the endpoint sends in this connection */
	ct4_key_set(&c.key, p->saddr, p->daddr, p->sport, p->dport, p->proto, CT_KEY_F_POL_TX);
	int verdict = policy_enforce(&c);

	*reason = c.reason;
	return verdict;
}

/*
 * The sending endpoint's live policy entry of the connection of p, as from_container sees p
 * before any translation, or NULL. Not looked up for a pure SYN, which opens a connection (the
 * policy step finds a retried SYN's entry itself).
 */
static __always_inline struct ct4_entry *policy_egress_entry(const struct pkt4 *p, __u64 now)
{
	struct ct4_key k;

	if (pkt4_is_tcp_syn(p))
		return NULL;
	ct4_key_of(&k, p, CT_KEY_F_POL_TX);
	struct ct4_entry *e = ct4_lookup(p->proto, &k);

	return policy_continues(e, p, now) ? e : NULL;
}

/*
 * Whether a packet of the tracked connection e takes the fast path of from_container: TCP after
 * the SYN that no service translates per packet (CT_F_NO_XLATE: to a pod address, or to the
 * backend the socket load balancer chose at connect()) needs neither the service step nor a
 * policy decision. Only TCP: a TCP connection keeps the destination it started with, while a UDP
 * or ICMP flow that began before its frontend existed (a pod starting while the agent still
 * writes the services) must be translated from the moment it does.
 */
static __always_inline int policy_fast_path(const struct ct4_entry *e, const struct pkt4 *p)
{
	return p->proto == IPPROTO_TCP && (e->flags & CT_F_NO_XLATE);
}

#endif
