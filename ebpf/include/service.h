/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service translation of the packets a pod sends (from_container), with conntrack.
 *
 *   forward  tuple tracked (CT_KEY_F_SERVICE): DNAT to the backend of the entry.
 *   reply    tuple tracked (CT_KEY_F_REPLY): SNAT back to the service address (rev NAT), and
 *            for hairpin connections DNAT from the hairpin address back to the client.
 *            Replies of connections from outside (CT_F_NODEPORT, written by bpf_host) are then
 *            forwarded by the datapath (fib.h): their source is a node address.
 *   new      frontend in anetd_lb4_services: pick a backend (affinity or random slot), write
 *            the forward and reply entries, DNAT (+ SNAT to hairpin_ipv4 when the backend is
 *            the client itself). A frontend without backends is refused at once (reject.h).
 *   other    passed untouched; a TCP SYN first removes a reply entry its tuple may have
 *            from an earlier service connection (svc4_not_frontend).
 *
 * Replies of backends that are no pod of this node (another node's pods, the node's host
 * network) never pass a from_container here: to_container translates them back
 * (svc4_to_container) before the client's ingress policy sees them.
 *
 * A tracked connection whose backend disappeared from anetd_lb4_backends: UDP and ICMP pick a
 * new backend and rewrite the entries (the next datagram reaches a live backend); TCP is
 * dropped (REASON_STALE_SERVICE_CONNECTION) except for a SYN, which opens a new connection.
 * A tracked connection ignores the backend's state and slots: terminating backends keep
 * serving the connections they have.
 */
#ifndef ANETD_SERVICE_H
#define ANETD_SERVICE_H

#include "common.h"
#include "metrics.h"
#include "pkt.h"
#include "nat.h"
#include "ct.h"
#include "lb.h"
#include "reject.h"
#include "csum.h"

/* What is left of a forward entry being replaced, to remove its reply entry. */
struct svc4_stale {
	__be32 backend_addr;
	__be16 backend_port;
	__u16 flags;
	__u8 present;
};

/* The reply-direction key of a service connection of packet p (a forward packet). */
static __always_inline void svc4_reply_key(struct ct4_key *k, const struct pkt4 *p,
					   __be32 backend_addr, __be16 backend_port, __u16 flags)
{
	__be32 client = (flags & CT_F_SNAT) ? bpf_htonl(hairpin_ipv4) : p->saddr;

	ct4_key_set(k, client, backend_addr, p->sport, backend_port, p->proto, CT_KEY_F_REPLY);
}

/* Rewrites a forward packet towards its backend (and from the hairpin address if flagged). */
static __always_inline int svc4_dnat(struct __sk_buff *skb, struct pkt4 *p, __be32 addr,
				     __be16 port, __u16 flags, __u8 *reason)
{
	if (nat4_dnat(skb, p, addr, port) < 0 ||
	    ((flags & CT_F_SNAT) && nat4_rewrite_addr(skb, p, 1, bpf_htonl(hairpin_ipv4)) < 0)) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/*
 * A new connection (or a tracked one that must pick again) to the frontend p addresses, whose
 * master entry lb4_lookup_service found (lkey, svc).
 */
static __always_inline int svc4_new(struct __sk_buff *skb, struct pkt4 *p, struct lb4_key *lkey,
				    struct lb4_service *svc, const struct ct4_key *fkey,
				    const struct svc4_stale *stale, __u32 len, __u64 now,
				    __u8 *reason)
{
	struct ct4_key rkey;

	if (stale->present) {
		/* entries of the previous connection on this tuple: forget its reply direction */
		svc4_reply_key(&rkey, p, stale->backend_addr, stale->backend_port, stale->flags);
		ct4_delete(p->proto, &rkey);
	}
	__u32 backend_id = 0; /* set when picked; 0 keeps clang from reading undefined */
	__be32 backend_addr = 0;
	__be16 backend_port = 0;
	int picked = lb4_pick_or_refuse(skb, p, lkey, svc, now, reason, &backend_id, &backend_addr,
					&backend_port);

	if (picked != LB4_PICKED)
		return picked;

	__u16 rev_nat_id = svc->rev_nat_id;
	/*
	 * A pod reaching a NodePort or external address of its node: the reply's source becomes a
	 * node address, which the kernel would drop as a martian on the pod veth, so the reply is
	 * forwarded by the datapath like the replies of connections from outside.
	 */
	__u16 flags = ct4_flags_of(p, 0) | (backend_addr == p->saddr ? CT_F_SNAT : 0) |
		      ((svc->flags & (LB_F_NODEPORT | LB_F_EXTERNAL)) ? CT_F_NODEPORT : 0);
	struct ct4_entry e = {
		.expires_ns = now + ct4_lifetime_ns(p->proto, flags),
		.packets = 1,
		.bytes = len,
		.backend_id = backend_id,
		.nat_addr = backend_addr,
		.nat_port = backend_port,
		.rev_nat_id = rev_nat_id,
		.flags = flags,
	};

	if (ct4_update(p->proto, fkey, &e) < 0) {
		*reason = REASON_CT_MAP_FULL;
		return TC_ACT_SHOT;
	}
	e.packets = 0;
	e.bytes = 0;
	e.nat_addr = p->saddr;
	e.nat_port = p->sport;
	svc4_reply_key(&rkey, p, backend_addr, backend_port, flags);
	if (ct4_update(p->proto, &rkey, &e) < 0) {
		ct4_delete(p->proto, fkey);
		*reason = REASON_CT_MAP_FULL;
		return TC_ACT_SHOT;
	}
	ct4_mark_translated(p->proto, &rkey);
	return svc4_dnat(skb, p, backend_addr, backend_port, flags, reason);
}

/* A reply of a tracked service connection: back to the service address. p is a reply packet. */
static __always_inline int svc4_reply(struct __sk_buff *skb, struct pkt4 *p,
				      struct ct4_entry *rep, __u32 len, __u64 now, __u8 *reason,
				      int *forward)
{
	__u16 rev_nat_id = rep->rev_nat_id;
	struct lb4_reverse_nat *rnat = bpf_map_lookup_elem(&anetd_lb4_reverse_nat, &rev_nat_id);

	if (!rnat) {
		*reason = REASON_STALE_SERVICE_CONNECTION;
		return TC_ACT_SHOT;
	}
	__be32 vip = rnat->address;
	__be16 vport = rnat->port;
	__u16 flags = rep->flags;
	__be32 client = (flags & CT_F_SNAT) ? rep->nat_addr : p->daddr;
	struct ct4_key fkey;

	ct4_key_set(&fkey, vip, client, vport, p->dport, p->proto, CT_KEY_F_SERVICE);
	ct4_account(rep, &fkey, ct4_flags_of(p, 1), p->proto, len, now);

	if (nat4_snat(skb, p, vip, vport) < 0 ||
	    ((flags & CT_F_SNAT) && nat4_rewrite_addr(skb, p, 0, client) < 0)) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	/* a NodePort reply now comes from a node address: the node's stack would drop it */
	*forward = (flags & CT_F_NODEPORT) != 0;
	return TC_ACT_OK;
}

/* The live reply entry of the service connection p is a reply of, or NULL. */
static __always_inline struct ct4_entry *svc4_live_reply(const struct pkt4 *p, __u64 now)
{
	struct ct4_key rkey;

	ct4_key_of(&rkey, p, CT_KEY_F_REPLY);
	struct ct4_entry *rep = ct4_lookup(p->proto, &rkey);

	return rep && !ct4_expired(rep, now) ? rep : NULL;
}

/*
 * A packet not addressed to a frontend: the reply of a service connection whose backend is this
 * pod (reverse translation), or not service traffic at all. A TCP SYN of the latter first
 * removes the reply entry an earlier service connection may have left on its tuple: a new
 * connection straight to an address (a pod IP, or the backend the socket load balancer chose
 * at connect()) owns the tuple now, and that entry would rewrite its replies to the service
 * address.
 */
static __always_inline int svc4_not_frontend(struct __sk_buff *skb, struct pkt4 *p, __u32 len,
					     __u64 now, __u8 *reason, int *forward)
{
	struct ct4_entry *rep = svc4_live_reply(p, now);

	if (rep)
		return svc4_reply(skb, p, rep, len, now, reason, forward);
	if (pkt4_is_tcp_syn(p)) {
		struct ct4_key rkey;

		/* the reply key p would have if its destination were the backend picked for it */
		svc4_reply_key(&rkey, p, p->daddr, p->dport, 0);
		if (ct4_lookup(p->proto, &rkey)) /* rarely there: a lookup takes no lock */
			ct4_delete(p->proto, &rkey);
	}
	return TC_ACT_OK;
}

/*
 * A packet the node's stack delivers to a pod (to_container): the reply of a service connection
 * of that pod whose backend is no pod of this node (a pod of another node, or the node's own host
 * network) goes back to the service address here. Replies of local pods were translated by their
 * own from_container already, and a local delivery skips to_container. Everything else passes
 * untouched.
 */
static __always_inline int svc4_to_container(struct __sk_buff *skb, struct pkt4 *p, __u32 len,
					     __u64 now, __u8 *reason)
{
	struct ct4_entry *rep = svc4_live_reply(p, now);
	int forward = 0; /* the packet is on its way into the pod: nothing to forward */

	return rep ? svc4_reply(skb, p, rep, len, now, reason, &forward) : TC_ACT_OK;
}

/*
 * The packet an ICMP error quotes (its IPv4 header without options and the first 8 bytes of its
 * TCP or UDP header), and the error's own header: what the icmp4_* helpers below rewrite.
 */
struct icmp4_quote {
	__u8 type;
	__u8 code;
	__sum16 check;
	__u32 rest;          /* unused / next-hop MTU / pointer */
	struct iphdr ip;
	__be16 sport;
	__be16 dport;
	__be16 len_or_seq;   /* UDP length, or half of the TCP sequence number */
	__sum16 udp_check;   /* UDP checksum, or the other half of the TCP sequence number */
};
_Static_assert(sizeof(struct icmp4_quote) == 8 + 20 + 8, "icmp4_quote");

/*
 * Loads an ICMP error (destination unreachable: port unreachable or fragmentation needed; time
 * exceeded; parameter problem) and the TCP or UDP packet it quotes, addressed to that packet's
 * sender. 0 when skb is one, with outer and q filled; -1 for anything else (other ICMP, IP
 * options, fragments, a later fragment quoted: no ports to go by).
 */
static __always_inline int icmp4_error_load(struct __sk_buff *skb, struct iphdr *outer,
					    struct icmp4_quote *q)
{
	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, outer, sizeof(*outer)) < 0)
		return -1;
	if (outer->ihl != 5 || outer->protocol != IPPROTO_ICMP ||
	    (bpf_ntohs(outer->frag_off) & (IP_MF | IP_OFFSET)))
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(*outer), q, sizeof(*q)) < 0)
		return -1; /* too short to quote ports */
	if (q->type != ICMP_DEST_UNREACH && q->type != ICMP_TIME_EXCEEDED &&
	    q->type != ICMP_PARAMETERPROB)
		return -1;
	if (q->ip.ihl != 5 || q->ip.saddr != outer->daddr ||
	    (bpf_ntohs(q->ip.frag_off) & IP_OFFSET) ||
	    (q->ip.protocol != IPPROTO_TCP && q->ip.protocol != IPPROTO_UDP))
		return -1;
	return 0;
}

/*
 * Rewrites the quoted packet's addresses and ports, and every checksum that covers them: the
 * quoted IPv4 header's, the quoted UDP checksum (pseudo header and ports; a zero one stays zero),
 * and the ICMP checksum over the whole error.
 */
static __always_inline void icmp4_quote_translate(struct icmp4_quote *q, __be32 saddr,
						  __be16 sport, __be32 daddr, __be16 dport)
{
	struct icmp4_quote was = *q;

	q->ip.saddr = saddr;
	q->ip.daddr = daddr;
	q->sport = sport;
	q->dport = dport;
	q->ip.check = 0;
	q->ip.check = csum_ipv4_hdr(&q->ip);
	if (q->ip.protocol == IPPROTO_UDP && was.udp_check) {
		/* the pseudo header's addresses and the ports' word, before and after */
		__be32 from[3] = { was.ip.saddr, was.ip.daddr, 0 };
		__be32 to[3] = { saddr, daddr, 0 };

		__builtin_memcpy(&from[2], &was.sport, sizeof(from[2]));
		__builtin_memcpy(&to[2], &q->sport, sizeof(to[2]));
		q->udp_check = csum_fold32(bpf_csum_diff(from, sizeof(from), to, sizeof(to),
							 (__u16)~was.udp_check));
		if (!q->udp_check)
			q->udp_check = 0xffff;
	}
	/* the ICMP checksum covers the whole error: the quote's change, its own field left out */
	q->check = 0;
	__sum16 old_check = was.check;

	was.check = 0;
	q->check = csum_fold32(bpf_csum_diff((__be32 *)&was, sizeof(was), (__be32 *)q, sizeof(*q),
					     (__u16)~old_check));
}

/*
 * Writes a translated error back: the rewritten quote, and the outer source and destination
 * (saddr, daddr; each only where it differs from outer's) with the IPv4 checksum. Both rewrites leave the sum of the
 * bytes they touch as it was (the quote's change is compensated in the ICMP checksum, an
 * address's in the IPv4 one), so a CHECKSUM_COMPLETE skb's csum stays right: flags 0, as nat.h
 * writes. -1 when a write failed.
 */
static __always_inline int icmp4_error_store(struct __sk_buff *skb, const struct iphdr *outer,
					     const struct icmp4_quote *q, __be32 saddr,
					     __be32 daddr)
{
	if (bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(*outer), q, sizeof(*q), 0) < 0)
		return -1;
	if (saddr != outer->saddr &&
	    (bpf_l3_csum_replace(skb, NAT_IP_CSUM_OFF, outer->saddr, saddr, sizeof(saddr)) < 0 ||
	     bpf_skb_store_bytes(skb, NAT_SADDR_OFF, &saddr, sizeof(saddr), 0) < 0))
		return -1;
	if (daddr != outer->daddr &&
	    (bpf_l3_csum_replace(skb, NAT_IP_CSUM_OFF, outer->daddr, daddr, sizeof(daddr)) < 0 ||
	     bpf_skb_store_bytes(skb, NAT_DADDR_OFF, &daddr, sizeof(daddr), 0) < 0))
		return -1;
	return 0;
}

/*
 * An ICMP error the node's stack delivers to a pod about a packet of one of its service
 * connections translated per packet: the quoted packet went to the backend, which the pod's
 * socket never heard of, so its kernel would drop the error (no ECONNREFUSED for UDP, no path
 * MTU for TCP). The quote is translated back to the frontend (destination address and port, and
 * the checksums), and the error's source too when the backend itself sent it, as kube-proxy's
 * conntrack does for RELATED packets. Errors come this way for every backend: pkt4_parse leaves
 * them to the stack, local delivery included.
 */
static __always_inline int svc4_icmp_error_to_container(struct __sk_buff *skb, __u8 *reason)
{
	struct iphdr outer;
	struct icmp4_quote q;

	if (icmp4_error_load(skb, &outer, &q) < 0)
		return TC_ACT_OK;

	/* the quoted packet went pod -> backend: its connection's reply entry */
	struct ct4_key rkey;

	ct4_key_set(&rkey, q.ip.saddr, q.ip.daddr, q.sport, q.dport, q.ip.protocol,
		    CT_KEY_F_REPLY);
	struct ct4_entry *rep = ct4_lookup(q.ip.protocol, &rkey);

	if (!rep || ct4_expired(rep, anetd_now()) || (rep->flags & CT_F_SNAT))
		return TC_ACT_OK;

	__u16 rev_nat_id = rep->rev_nat_id;
	struct lb4_reverse_nat *rnat = bpf_map_lookup_elem(&anetd_lb4_reverse_nat, &rev_nat_id);

	if (!rnat)
		return TC_ACT_OK;

	__be32 backend = q.ip.daddr;
	__be32 vip = rnat->address;

	icmp4_quote_translate(&q, q.ip.saddr, q.sport, vip, rnat->port);
	/* sent by the backend itself (port unreachable): from the frontend, as the pod expects */
	if (icmp4_error_store(skb, &outer, &q, outer.saddr == backend ? vip : outer.saddr,
			      outer.daddr) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/*
 * Translates a packet a pod sends. Returns the tc verdict; *reason says what to count
 * (REASON_FORWARDED unless dropped or rejected). *forward is set for replies of NodePort and
 * external connections: the caller must forward them itself (fib4_redirect) after policy.
 *
 * The frontend is looked up first: most packets of a node (pod to pod, and every connection the
 * socket load balancer already sent to a backend) address none, and then only the reply
 * direction needs a conntrack lookup.
 */
static __always_inline int svc4_from_container(struct __sk_buff *skb, struct pkt4 *p, __u32 len,
					       __u64 now, __u8 *reason, int *forward)
{
	struct svc4_stale stale = {};
	struct ct4_key fkey, rkey;
	struct lb4_key lkey;
	struct lb4_service *svc = lb4_lookup_service(&lkey, p);

	if (!svc)
		return svc4_not_frontend(skb, p, len, now, reason, forward);

	ct4_key_of(&fkey, p, CT_KEY_F_SERVICE);
	struct ct4_entry *fwd = ct4_lookup(p->proto, &fkey);

	if (!fwd)
		goto new_connection;

	stale.backend_addr = fwd->nat_addr;
	stale.backend_port = fwd->nat_port;
	stale.flags = fwd->flags;
	stale.present = 1;
	if (ct4_expired(fwd, now) || ct4_reopens(fwd, p))
		goto new_connection;

	__u32 backend_id = fwd->backend_id;
	struct lb4_backend *be = bpf_map_lookup_elem(&anetd_lb4_backends, &backend_id);

	if (!be) {
		if (p->proto == IPPROTO_TCP && !pkt4_is_tcp_syn(p)) {
			*reason = REASON_STALE_SERVICE_CONNECTION;
			return TC_ACT_SHOT;
		}
		goto new_connection; /* UDP/ICMP (or a fresh SYN): pick a live backend */
	}
	__be32 backend_addr = be->address;
	__be16 backend_port = be->port;
	__u16 flags = fwd->flags;

	svc4_reply_key(&rkey, p, backend_addr, backend_port, flags);
	ct4_account(fwd, &rkey, ct4_flags_of(p, 0), p->proto, len, now);
	return svc4_dnat(skb, p, backend_addr, backend_port, flags, reason);

new_connection:
	return svc4_new(skb, p, &lkey, svc, &fkey, &stale, len, now, reason);
}

#endif
