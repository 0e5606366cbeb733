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
#include "metrics.h"

/*
 * Sends p out of the interface the node's routes choose for its destination. Returns
 * TC_ACT_REDIRECT; TC_ACT_OK (the stack decides) when the lookup finds no forwarding route:
 * blackhole, unreachable, forwarding disabled, or a local destination; TC_ACT_SHOT with
 * *reason = REASON_FRAG_NEEDED when the packet is too big for the egress interface.
 *
 * tot_len stays 0: a non-zero tot_len makes the kernel (5.12+) compare it with the route MTU,
 * which fails every GSO packet (a pod's TSO segment, GRO-merged packets on the uplink; their IP
 * tot_len is the whole burst). With 0 the kernel checks the skb against the egress device
 * (is_skb_forwardable: a GSO packet passes, it is segmented on the way out); when the next hop's
 * neighbour entry is missing it checks nothing, so bpf_check_mtu does the same check here.
 */
static __always_inline int fib4_redirect(struct __sk_buff *skb, const struct pkt4 *p,
					 __u8 *reason)
{
	struct bpf_fib_lookup fib = {
		.family = AF_INET,
		.l4_protocol = p->proto,
		.sport = p->sport,
		.dport = p->dport,
		.ipv4_src = p->saddr,
		.ipv4_dst = p->daddr,
		.ifindex = skb->ingress_ifindex ? skb->ingress_ifindex : skb->ifindex,
	};
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);

	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH || rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		/*
		 * The kernel checks the skb on success only, and counts skb->len, Ethernet header
		 * included at tc ingress, against the egress MTU plus the egress device's own link
		 * header: an L3 device (WireGuard, IPIP) has none, so a packet within 14 bytes of its
		 * MTU would fail. bpf_check_mtu is given the IP length instead (GSO-aware likewise);
		 * it decides both cases.
		 */
		__u32 mtu = p->ip_len;

		if (bpf_check_mtu(skb, fib.ifindex, &mtu, 0, 0) != BPF_MTU_CHK_RET_SUCCESS)
			rc = BPF_FIB_LKUP_RET_FRAG_NEEDED;
		else if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			rc = BPF_FIB_LKUP_RET_SUCCESS; /* its parameters are filled on this path too */
	}
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		/*
		 * Not GSO and longer than the egress MTU. The stack would drop it anyway (its source
		 * is a node address: a martian on this path), so drop it here, counted.
		 */
		*reason = REASON_FRAG_NEEDED;
		return TC_ACT_SHOT;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK;

	/* ipv4_dst now holds the next hop: the gateway, or the destination on a connected route */
	struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
}

#endif
