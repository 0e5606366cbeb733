/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodePort, LoadBalancer ingress IPs and externalIPs for traffic entering the node from outside
 * (from_netdev, tc ingress of the node's external interfaces).
 *
 *   snat reply  to a SNAT port with a live anetd_snat4 "in" entry: destination back to the
 *               client, then the conntrack reply below.
 *   ct reply    (only after a reverse SNAT) source back to the frontend (rev NAT), forwarded
 *               by the datapath (fib.h): the source is now a node address.
 *   forward     tracked connection (CT_KEY_F_SERVICE): DNAT to its backend; SNAT when the
 *               connection has CT_F_SNAT (the backend is on another node).
 *   new         frontend (scope EXTERNAL, flagged LB_F_NODEPORT or LB_F_EXTERNAL): pick a backend
 *               from the external view (ETP=Local: local endpoints only), write both conntrack
 *               entries with CT_F_NODEPORT, DNAT. A backend on this node (np4_backend_is_local:
 *               a pod in anetd_lxc or with an ipcache endpoint_id, or the node's own address),
 *               and any backend of an ETP=Local frontend, sees the client's address; others
 *               get SNAT (snat.h). A frontend without backends is refused out of the same
 *               interface.
 *   icmp error  about a reply of a NodePort connection (fragmentation needed on the way to the
 *               client): to the backend, quoting the reply as the backend sent it
 *               (np4_icmp_error_from_netdev).
 *   other       passed untouched (host traffic, ClusterIPs reached from outside).
 *
 * Replies of local backends are translated by their pod's from_container (service.h), which
 * knows the conntrack reply entry written here; CT_F_NODEPORT makes it forward them itself.
 * Replies of the node's own host network (a hostNetwork backend) leave through an uplink's tc
 * egress, where to_netdev translates them (np4_to_netdev).
 */
#ifndef ANETD_NODEPORT_H
#define ANETD_NODEPORT_H

#include "common.h"
#include "metrics.h"
#include "pkt.h"
#include "nat.h"
#include "ct.h"
#include "lb.h"
#include "ipcache.h"
#include "lxcmap.h"
#include "reject.h"
#include "snat.h"
#include "fib.h"
#include "service.h"

/*
 * Whether addr is on this node: a pod of this node or the node's own address (identity host: a
 * hostNetwork backend). Its connections need no SNAT, and must not get one: the reply passes this
 * node anyway, through the pod's from_container or, from the host network, through to_netdev,
 * and a reply to a SNAT address would be taken by the node's own stack (and answered with a RST)
 * before the reverse SNAT on the uplink ever saw it. A pod counts as soon as its programs are
 * attached (anetd_lxc, written by the agent at CNI ADD), even while the ipcache does not mark it
 * local yet (endpoint_id, written once the agent has seen the pod with its address).
 */
static __always_inline int np4_backend_is_local(__be32 addr)
{
	if (bpf_map_lookup_elem(&anetd_lxc, &addr))
		return 1;

	struct ipcache4_key k = { .prefixlen = 32, .address = addr };
	struct ipcache4_value *v = bpf_map_lookup_elem(&anetd_ipcache4, &k);

	return v && (v->endpoint_id != 0 || v->identity == IDENTITY_HOST);
}

/*
 * The source address of a SNATed connection: the node address a NodePort was sent to, else
 * snat_ipv4 (LoadBalancer and external IPs need not be node addresses), else the frontend.
 */
static __always_inline __be32 np4_snat_addr(__be32 frontend, __u8 svc_flags)
{
	return (svc_flags & LB_F_NODEPORT) || !snat_ipv4 ? frontend : bpf_htonl(snat_ipv4);
}

/* SNAT of a forward packet (already DNATed), then forwarded by the datapath. */
static __always_inline int np4_snat_forward(struct __sk_buff *skb, struct pkt4 *p,
					    __be32 node_addr, __be32 frontend, __u64 expires,
					    __u64 now, __u8 *reason)
{
	struct snat4_entry *s = snat4_out(p, node_addr, frontend, expires, now);

	if (!s) {
		*reason = REASON_SNAT_EXHAUSTED;
		return TC_ACT_SHOT;
	}
	if (nat4_snat(skb, p, s->to_addr, s->to_port) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	return fib4_redirect(skb, p, reason);
}

/* A new connection to the frontend p addresses, or TC_ACT_OK when p is not for a frontend. */
static __always_inline int np4_new(struct __sk_buff *skb, struct pkt4 *p,
				   const struct ct4_key *fkey, const struct ct4_entry *stale,
				   __u32 len, __u64 now, __u8 *reason, int *translated)
{
	struct lb4_key lkey = {
		.address = p->daddr, .dport = p->dport, .proto = p->proto,
		.scope = LB_SCOPE_EXTERNAL };
	struct ct4_key rkey;
	struct lb4_service *svc = bpf_map_lookup_elem(&anetd_lb4_services, &lkey);

	if (stale) {
		/* the previous connection on this tuple: forget its reply direction */
		ct4_key_set(&rkey, p->saddr, stale->nat_addr, p->sport, stale->nat_port, p->proto,
			    CT_KEY_F_REPLY);
		ct4_delete(p->proto, &rkey);
		if (!svc)
			ct4_delete(p->proto, fkey);
	}
	if (!svc || !(svc->flags & (LB_F_NODEPORT | LB_F_EXTERNAL)))
		return TC_ACT_OK; /* not a frontend reachable from outside */
	*translated = 1;
	__u32 backend_id = 0; /* set when picked; 0 keeps clang from reading undefined */
	__be32 backend_addr = 0;
	__be16 backend_port = 0;
	int picked = lb4_pick_or_refuse(skb, p, &lkey, svc, now, reason, &backend_id, &backend_addr,
					&backend_port);

	if (picked != LB4_PICKED)
		return picked;

	__u8 svc_flags = svc->flags;
	__u16 rev_nat_id = svc->rev_nat_id;
	int local = (svc_flags & LB_F_ETP_LOCAL) || np4_backend_is_local(backend_addr);
	__u16 flags = ct4_flags_of(p, 0) | CT_F_NODEPORT | (local ? 0 : CT_F_SNAT);
	__be32 frontend = p->daddr;
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
	ct4_key_set(&rkey, p->saddr, backend_addr, p->sport, backend_port, p->proto,
		    CT_KEY_F_REPLY);
	if (ct4_update(p->proto, &rkey, &e) < 0) {
		ct4_delete(p->proto, fkey);
		*reason = REASON_CT_MAP_FULL;
		return TC_ACT_SHOT;
	}
	if (local)
		ct4_mark_translated(p->proto, &rkey);
	if (nat4_dnat(skb, p, backend_addr, backend_port) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	if (local)
		return TC_ACT_OK; /* the node routes it to the pod's veth, or takes it itself */

	int verdict = np4_snat_forward(skb, p, np4_snat_addr(frontend, svc_flags), frontend,
					e.expires_ns, now, reason);

	if (verdict == TC_ACT_SHOT) {
		ct4_delete(p->proto, &rkey);
		ct4_delete(p->proto, fkey);
	}
	return verdict;
}

/*
 * A reply of a SNATed connection from its remote backend: back to the client, from the
 * frontend address, forwarded by the datapath.
 */
static __always_inline int np4_snat_reply(struct __sk_buff *skb, struct pkt4 *p,
					  struct snat4_entry *in, __u32 len, __u64 now,
					  __u8 *reason)
{
	if (nat4_dnat(skb, p, in->to_addr, in->to_port) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}

	struct ct4_key rkey, fkey;
	struct ct4_entry *rep;

	ct4_key_of(&rkey, p, CT_KEY_F_REPLY);
	rep = ct4_lookup(p->proto, &rkey);
	if (!rep || ct4_expired(rep, now)) {
		*reason = REASON_STALE_SERVICE_CONNECTION;
		return TC_ACT_SHOT;
	}

	__u16 rev_nat_id = rep->rev_nat_id;
	struct lb4_reverse_nat *rnat = bpf_map_lookup_elem(&anetd_lb4_reverse_nat, &rev_nat_id);

	if (!rnat) {
		*reason = REASON_STALE_SERVICE_CONNECTION;
		return TC_ACT_SHOT;
	}
	__be32 vip = rnat->address;
	__be16 vport = rnat->port;

	ct4_key_set(&fkey, vip, p->daddr, vport, p->dport, p->proto, CT_KEY_F_SERVICE);
	ct4_account(rep, &fkey, ct4_flags_of(p, 1), p->proto, len, now);
	snat4_refresh(in, p, rep->expires_ns);
	if (nat4_snat(skb, p, vip, vport) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	return fib4_redirect(skb, p, reason);
}

/*
 * Translates a packet entering the node. Returns the tc verdict; *reason says what to count
 * (REASON_FORWARDED unless dropped or rejected). *translated is set when p was a service packet.
 */
static __always_inline int np4_from_netdev(struct __sk_buff *skb, struct pkt4 *p, __u32 len,
					   __u8 *reason, int *translated)
{
	__u64 now = anetd_now();
	struct snat4_entry *in = snat4_in(p, now);

	if (in) {
		*translated = 1;
		return np4_snat_reply(skb, p, in, len, now, reason);
	}

	struct ct4_key fkey, rkey;
	struct ct4_entry *fwd, stale;

	ct4_key_of(&fkey, p, CT_KEY_F_SERVICE);
	fwd = ct4_lookup(p->proto, &fkey);
	if (!fwd)
		return np4_new(skb, p, &fkey, NULL, len, now, reason, translated);

	*translated = 1;
	stale = *fwd;
	if (ct4_expired(fwd, now) || ct4_reopens(fwd, p))
		return np4_new(skb, p, &fkey, &stale, len, now, reason, translated);

	__u32 backend_id = fwd->backend_id;
	struct lb4_backend *be = bpf_map_lookup_elem(&anetd_lb4_backends, &backend_id);

	if (!be) {
		if (p->proto == IPPROTO_TCP && !pkt4_is_tcp_syn(p)) {
			*reason = REASON_STALE_SERVICE_CONNECTION;
			return TC_ACT_SHOT;
		}
		return np4_new(skb, p, &fkey, &stale, len, now, reason, translated);
	}
	__be32 backend_addr = be->address;
	__be16 backend_port = be->port;
	struct lb4_key lkey = {
		.address = p->daddr, .dport = p->dport, .proto = p->proto,
		.scope = LB_SCOPE_EXTERNAL };
	__u16 flags = fwd->flags;

	ct4_key_set(&rkey, p->saddr, backend_addr, p->sport, backend_port, p->proto,
		    CT_KEY_F_REPLY);
	ct4_account(fwd, &rkey, ct4_flags_of(p, 0), p->proto, len, now);
	if (nat4_dnat(skb, p, backend_addr, backend_port) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	if (!(flags & CT_F_SNAT))
		return TC_ACT_OK;

	/* the address only matters when the SNAT entries were evicted and are made again */
	struct lb4_service *svc = bpf_map_lookup_elem(&anetd_lb4_services, &lkey);
	__be32 node_addr = np4_snat_addr(lkey.address, svc ? svc->flags : LB_F_NODEPORT);

	return np4_snat_forward(skb, p, node_addr, lkey.address, fwd->expires_ns, now, reason);
}

/*
 * An ICMP error entering the node about a reply of one of its NodePort / external connections
 * (the quote: frontend:port -> client:port): fragmentation needed from a router on the way to
 * the client, above all, whose next-hop MTU the backend must learn, or its large replies are lost
 * for good (a path MTU black hole). Addressed to the frontend, it would reach no socket. The
 * quote becomes the reply as the backend sent it (backend:port -> client:port, or -> the SNAT
 * address:port for a backend on another node) and the error goes to the backend, through the
 * node's stack, as kube-proxy's conntrack does for RELATED packets. Returns the tc verdict;
 * *translated is set for such an error.
 */
static __always_inline int np4_icmp_error_from_netdev(struct __sk_buff *skb, __u8 *reason,
						      int *translated)
{
	struct iphdr outer;
	struct icmp4_quote q;

	if (icmp4_error_load(skb, &outer, &q) < 0)
		return TC_ACT_OK;

	__u8 proto = q.ip.protocol;
	__u64 now = anetd_now();
	struct ct4_key fkey;

	/* the quoted reply, frontend -> client, is the forward entry's tuple turned around */
	ct4_key_set(&fkey, q.ip.saddr, q.ip.daddr, q.sport, q.dport, proto, CT_KEY_F_SERVICE);
	struct ct4_entry *fwd = ct4_lookup(proto, &fkey);

	if (!fwd || ct4_expired(fwd, now) || !(fwd->flags & CT_F_NODEPORT))
		return TC_ACT_OK;

	__be32 backend = fwd->nat_addr;
	__be16 backend_port = fwd->nat_port;
	__be32 to = q.ip.daddr;
	__be16 to_port = q.dport;

	if (fwd->flags & CT_F_SNAT) {
		struct ct4_key okey;

		ct4_key_set(&okey, backend, q.ip.daddr, backend_port, q.dport, proto, 0);
		struct snat4_entry *out = bpf_map_lookup_elem(&anetd_snat4, &okey);

		if (!out || out->expires_ns <= now)
			return TC_ACT_OK;
		to = out->to_addr;
		to_port = out->to_port;
	}
	*translated = 1;
	icmp4_quote_translate(&q, backend, backend_port, to, to_port);
	if (icmp4_error_store(skb, &outer, &q, outer.saddr, backend) < 0) {
		*reason = REASON_NAT_FAILED;
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/*
 * A packet leaving the node through an uplink (to_netdev): the reply of a NodePort / external
 * connection whose backend is the node's own host network goes out from the frontend. Replies of
 * pods were translated in their from_container and do not match a reply entry any more; SNATed
 * connections reply to the node (np4_snat_reply). Everything else passes untouched.
 */
static __always_inline int np4_to_netdev(struct __sk_buff *skb, struct pkt4 *p, __u32 len,
					 __u8 *reason, int *translated)
{
	__u64 now = anetd_now();
	struct ct4_entry *rep = svc4_live_reply(p, now);
	int forward = 0; /* already on its way out */

	if (!rep || !(rep->flags & CT_F_NODEPORT))
		return TC_ACT_OK;
	*translated = 1;
	return svc4_reply(skb, p, rep, len, now, reason, &forward);
}

#endif
