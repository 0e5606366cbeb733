// SPDX-License-Identifier: Apache-2.0
/*
 * Programs on the node's external interfaces (the uplinks that carry NodePort, LoadBalancer and
 * externalIP traffic). They share every map with bpf_lxc (same headers, same pins).
 *   from_netdev: tc ingress = packets entering the node from outside.
 *                NodePort / external frontends: conntrack, DNAT, SNAT for remote backends,
 *                reverse SNAT of their replies, refusal of frontends without backends
 *                (include/nodeport.h); ICMP errors about their replies (fragmentation
 *                needed on the way to the client) go to the backend, quoting its own reply.
 *                Everything else passes untouched and uncounted.
 *   to_netdev:   tc egress = packets leaving the node. Replies of NodePort / external
 *                connections whose backend is the node's own host network: source back to the
 *                frontend (include/nodeport.h). Packets the datapath translated and forwarded
 *                itself (include/fib.h) and everything else pass untouched and uncounted.
 */
#include "include/common.h"
#include "include/metrics.h"
#include "include/pkt.h"
#include "include/nodeport.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * One hook of an uplink: parse, translate (np4_from_netdev at DIR_INGRESS, np4_to_netdev at
 * DIR_EGRESS; dir is a constant, so each program keeps only its own branch), count what was
 * service traffic. Anything else is not ours to judge: the node's stack sees it as it came.
 */
static __always_inline int host_hook(struct __sk_buff *skb, __u8 dir)
{
	__u32 len = skb->len;
	__u8 reason = REASON_FORWARDED;
	int translated = 0;
	struct pkt4 p;
	int verdict;

	switch (pkt4_parse(skb, &p)) {
	case PKT_OK:
		break;
	case PKT_PASS:
		if (dir != DIR_INGRESS)
			return TC_ACT_OK;
		/* ICMP errors about NodePort replies: to their backend */
		verdict = np4_icmp_error_from_netdev(skb, &reason, &translated);
		if (translated)
			metrics_update(reason, dir, len);
		return verdict;
	default:
		return TC_ACT_OK;
	}
	if (dir == DIR_INGRESS)
		verdict = np4_from_netdev(skb, &p, len, &reason, &translated);
	else
		verdict = np4_to_netdev(skb, &p, len, &reason, &translated);
	if (translated)
		metrics_update(reason, dir, len);
	return verdict;
}

SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	return host_hook(skb, DIR_INGRESS);
}

SEC("tc")
int to_netdev(struct __sk_buff *skb)
{
	return host_hook(skb, DIR_EGRESS);
}
