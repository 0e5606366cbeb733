/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwarding of translated packets whose source is now a node address (NodePort replies and
 * SNATed connections). The kernel would drop such a packet on its forwarding path as a martian
 * (a local address as source arriving from outside), so the datapath routes it itself: a FIB
 * lookup in the node's tables, then bpf_redirect_neigh to the egress interface, which resolves
 * the next hop's MAC through the neighbour table.
 */
#ifndef ANETD_FIB_H
#define ANETD_FIB_H

#include "common.h"
#include "pkt.h"

/*
 * Sends p out of the interface the node's routes choose for its destination. Returns
 * TC_ACT_REDIRECT, or TC_ACT_OK (the stack decides) when the lookup finds no forwarding route:
 * blackhole, unreachable, forwarding disabled, or a local destination.
 */
static __always_inline int fib4_redirect(struct __sk_buff *skb, const struct pkt4 *p)
{
	struct bpf_fib_lookup fib = {
		.family = AF_INET,
		.l4_protocol = p->proto,
		.sport = p->sport,
		.dport = p->dport,
		.tot_len = p->ip_len,
		.ipv4_src = p->saddr,
		.ipv4_dst = p->daddr,
		.ifindex = skb->ingress_ifindex ? skb->ingress_ifindex : skb->ifindex,
	};
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);

	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK;

	/* ipv4_dst now holds the next hop: the gateway, or the destination on a connected route */
	struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
}

#endif
