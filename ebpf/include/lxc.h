/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local delivery: a packet a pod sends to another pod of this node skips the node's IP stack.
 * anetd_lxc maps every local endpoint address to what its delivery needs (host veth ifindex,
 * both MACs); the agent writes an entry when it attaches an endpoint's programs and deletes it
 * on detach (docs/dev/service-datapath.md, "Local delivery").
 *
 * from_container, once translation and egress policy passed, redirects the packet with
 * bpf_redirect_peer to the destination pod's eth0: from tc ingress of the sender's host veth
 * straight to tc ingress of the peer in the pod's namespace, without the node's routing,
 * neighbour table, veth queue and backlog; the TTL drops by one as if routed. That skips the destination's to_container, so its
 * ingress policy runs here, exactly as to_container would run it (the same hook, the same
 * counters). A missing entry means "not a local pod, or not known yet": the old path.
 */
#ifndef ANETD_LXC_H
#define ANETD_LXC_H

#include "common.h"
#include "metrics.h"
#include "pkt.h"
#include "policy.h"
#include "lxcmap.h"

/*
 * The frame's first bytes up to the IPv4 checksum: everything delivery rewrites (both MACs, the
 * TTL and the checksum), read and written back with one helper call each.
 */
struct lxc4_head {
	__u8 dst_mac[6];
	__u8 src_mac[6];
	__be16 ethertype;
	__u8 ip_unchanged[8]; /* version/ihl, tos, tot_len, id, frag_off */
	__u8 ttl;
	__u8 protocol;
	__u16 check;          /* as on the wire */
};
_Static_assert(sizeof(struct lxc4_head) == ETH_HLEN + 12, "lxc4_head");

/*
 * The local endpoint a translated packet p (sent by orig->saddr) can be delivered to directly,
 * or NULL. A packet back to its own sender (hairpin through a service) takes the stack.
 */
static __always_inline const struct lxc4_info *lxc4_local_peer(const struct pkt4 *orig,
							       const struct pkt4 *p)
{
	if (p->daddr == orig->saddr)
		return NULL;
	return bpf_map_lookup_elem(&anetd_lxc, &p->daddr);
}

/*
 * Delivers p to the local endpoint dst: its ingress policy (counted DIR_INGRESS as
 * to_container counts it), then the Ethernet header the pod expects and bpf_redirect_peer.
 * Returns the tc verdict.
 */
static __always_inline int lxc4_deliver(struct __sk_buff *skb, const struct pkt4 *p,
					const struct lxc4_info *dst, __u32 len, __u64 now)
{
	__u32 ifindex = dst->ifindex;
	__u8 reason = REASON_FORWARDED;
	struct lxc4_head h;

	/*
	 * Routed like the stack would: TTL minus one. A packet with TTL 1 goes to the stack, which
	 * answers ICMP time exceeded (and runs to_container if it forwards anything).
	 */
	if (bpf_skb_load_bytes(skb, 0, &h, sizeof(h)) < 0)
		return TC_ACT_OK;
	if (h.ttl <= 1)
		return TC_ACT_OK;
	/* the checksum after the TTL's decrement, as ip_decrease_ttl() updates it */
	__u32 check = (__u32)h.check + bpf_htons(0x0100);

	h.check = (__u16)(check + (check >= 0xffff));
	h.ttl -= 1;
	__builtin_memcpy(h.dst_mac, dst->mac, 6);
	__builtin_memcpy(h.src_mac, dst->node_mac, 6);
	int verdict = policy_ingress_hook(p, len, now, &reason);

	metrics_update(reason, DIR_INGRESS, len);
	if (verdict != TC_ACT_OK)
		return verdict;
	if (bpf_skb_store_bytes(skb, 0, &h, sizeof(h), 0) < 0)
		return TC_ACT_SHOT; /* cannot happen on a parsed frame */
	return bpf_redirect_peer(ifindex, 0);
}

#endif
