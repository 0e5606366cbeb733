/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source NAT of NodePort / external connections whose backend runs on another node: the
 * backend must answer through this node, so the source becomes a node address and a port from
 * [snat_port_min, snat_port_max].
 *
 * One connection has two entries in anetd_snat4, keyed by the tuple the packet carries:
 *   out  {backend, client, bport, cport, proto, 0}               -> {node address, snat port}
 *   in   {node address, backend, snat port, bport, proto, CT_KEY_F_REPLY} -> {client, cport}
 * Both carry the expiry of the connection's conntrack entries and are refreshed with them. A
 * port is taken while its "in" entry lives; expired entries are reused in place. Allocation is
 * safe between CPUs: a new "in" entry is inserted only if absent, an expired one claimed with a
 * compare-and-swap of its expiry.
 *
 * The range must not overlap node-port-range (a reply to a SNAT port would otherwise shadow a
 * NodePort): the agent refuses such a range (HostSettings). It should stay clear of the node's
 * ip_local_port_range too (a host connection to a backend could share the tuple): the agent
 * warns before load when the two overlap outside ip_local_reserved_ports. The defaults
 * 61000-65535 sit above Linux's default ephemeral range 32768-60999 and above the default
 * node-port-range 30000-32767.
 */
#ifndef ANETD_SNAT_H
#define ANETD_SNAT_H

#include "common.h"
#include "pkt.h"
#include "ct.h"

/*
 * The agent sizes the map like anetd_ct4_tcp (bpf-ct-global-tcp-max: two entries per connection
 * in both) and deletes expired entries with the conntrack GC; this is the size of an unsized load.
 */
#define SNAT_MAP_MAX_DEFAULT 131072
/* Ports tried (from a random start, then in sequence) before a new connection is dropped. */
#define SNAT_TRIES 32

const volatile __u32 snat_port_min = 61000; /* first SNAT source port, host order */
const volatile __u32 snat_port_max = 65535; /* last SNAT source port, host order */
/* Source address for SNAT of LoadBalancer/external IP connections, host order; 0 = the
 * frontend address (NodePort connections always use the node address they were sent to). */
const volatile __u32 snat_ipv4 = 0;

/* Mirrored by Snat4EntryCodec. Key: struct ct4_key. */
struct snat4_entry {
	__u64 expires_ns;   /* anetd_now() after which the entry is free */
	__be32 to_addr;     /* out: the node address; in: the client; network byte order */
	__be16 to_port;     /* out: the SNAT port; in: the client port; network byte order */
	__u16 pad;
};
_Static_assert(sizeof(struct snat4_entry) == 16, "snat4_entry");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SNAT_MAP_MAX_DEFAULT);
	__type(key, struct ct4_key);
	__type(value, struct snat4_entry);
} anetd_snat4 SEC(".maps");

/* Whether a destination port (host order) can be a SNAT port. */
static __always_inline int snat4_port_in_range(__u16 port)
{
	return port >= snat_port_min && port <= snat_port_max;
}

/* The "out" key of a packet already DNATed to its backend. */
static __always_inline void snat4_out_key(struct ct4_key *k, const struct pkt4 *p)
{
	ct4_key_of(k, p, 0);
}

/*
 * The SNAT of a forward packet p (DNATed, not yet SNATed), allocating a port for a new
 * connection (node_addr is its source address). A live connection keeps the address it got
 * while that is node_addr or its frontend (older agents SNATed LoadBalancer connections to the
 * frontend: an upgrade must not move them); one the node no longer SNATs to (its address
 * changed) gets a new port under node_addr. expires is the connection's conntrack expiry.
 * Returns the entry, NULL when every port tried is taken or the map refuses the entry.
 */
static __always_inline struct snat4_entry *snat4_out(const struct pkt4 *p, __be32 node_addr,
						     __be32 frontend, __u64 expires, __u64 now)
{
	struct ct4_key okey, ikey;
	struct snat4_entry *out;

	snat4_out_key(&okey, p);
	out = bpf_map_lookup_elem(&anetd_snat4, &okey);
	if (out && out->expires_ns > now &&
	    (out->to_addr == node_addr || out->to_addr == frontend)) {
		ct4_key_set(&ikey, out->to_addr, p->daddr, out->to_port, p->dport, p->proto,
			    CT_KEY_F_REPLY);
		struct snat4_entry *in = bpf_map_lookup_elem(&anetd_snat4, &ikey);

		if (in && in->to_addr == p->saddr && in->to_port == p->sport) {
			out->expires_ns = expires;
			in->expires_ns = expires;
			return out;
		}
	}
	if (snat_port_min == 0 || snat_port_max < snat_port_min || snat_port_max > 0xffff)
		return NULL;

	__u32 span = snat_port_max - snat_port_min + 1;
	__u32 start = bpf_get_prandom_u32() % span;
	struct snat4_entry in_val = {
		.expires_ns = expires, .to_addr = p->saddr, .to_port = p->sport };

	for (int i = 0; i < SNAT_TRIES; i++) {
		__be16 port = bpf_htons((__u16)(snat_port_min + (start + i) % span));

		ct4_key_set(&ikey, node_addr, p->daddr, port, p->dport, p->proto, CT_KEY_F_REPLY);
		struct snat4_entry *taken = bpf_map_lookup_elem(&anetd_snat4, &ikey);

		if (taken) {
			__u64 was = taken->expires_ns;

			/*
			 * An expired entry is claimed by swapping its expiry: of two connections on
			 * two CPUs that found it free at once, only one gets it (the other tries the
			 * next port), where two plain writes would leave the first one's replies to
			 * the second's client. The claimed entry names its client a moment later; no
			 * reply can come before the packet this allocation is for goes out.
			 */
			if (was > now ||
			    __sync_val_compare_and_swap(&taken->expires_ns, was, expires) != was)
				continue;
			taken->to_addr = p->saddr;
			taken->to_port = p->sport;
		} else {
			long err = bpf_map_update_elem(&anetd_snat4, &ikey, &in_val, BPF_NOEXIST);

			if (err == -EEXIST)
				continue; /* another CPU took the port since the lookup */
			if (err < 0)
				return NULL;
		}

		struct snat4_entry out_val = {
			.expires_ns = expires, .to_addr = node_addr, .to_port = port };

		if (bpf_map_update_elem(&anetd_snat4, &okey, &out_val, BPF_ANY) < 0) {
			bpf_map_delete_elem(&anetd_snat4, &ikey);
			return NULL;
		}
		return bpf_map_lookup_elem(&anetd_snat4, &okey);
	}
	return NULL;
}

/*
 * The reverse SNAT of a packet arriving at a SNAT port: the client it must go back to, or NULL.
 * Refreshes nothing: the conntrack reply that follows refreshes the connection.
 */
static __always_inline struct snat4_entry *snat4_in(const struct pkt4 *p, __u64 now)
{
	struct ct4_key ikey;

	if (!snat4_port_in_range(bpf_ntohs(p->dport)))
		return NULL;
	ct4_key_of(&ikey, p, CT_KEY_F_REPLY);

	struct snat4_entry *in = bpf_map_lookup_elem(&anetd_snat4, &ikey);

	return in && in->expires_ns > now ? in : NULL;
}

/* Refreshes both entries of a SNATed connection from its "in" side. */
static __always_inline void snat4_refresh(struct snat4_entry *in, const struct pkt4 *rev,
					  __u64 expires)
{
	/* rev: the reply after reverse SNAT, {backend -> client}; its out key is the swap */
	struct ct4_key okey;

	ct4_key_set(&okey, rev->saddr, rev->daddr, rev->sport, rev->dport, rev->proto, 0);
	struct snat4_entry *out = bpf_map_lookup_elem(&anetd_snat4, &okey);

	in->expires_ns = expires;
	if (out)
		out->expires_ns = expires;
}

#endif
