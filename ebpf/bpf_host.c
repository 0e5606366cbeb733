// SPDX-License-Identifier: Apache-2.0
/*
 * Programs on the node's external interfaces (the uplinks that carry NodePort, LoadBalancer and
 * externalIP traffic). They share every map with bpf_lxc (same headers, same pins).
 *   from_netdev: tc ingress = packets entering the node from outside.
 *                NodePort / external frontends: conntrack, DNAT, SNAT for remote backends,
 *                reverse SNAT of their replies, refusal of frontends without backends
 *                (include/nodeport.h). Everything else passes untouched and uncounted.
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

SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 reason = REASON_FORWARDED;
	int translated = 0;
	struct pkt4 p;
	int verdict;

	if (pkt4_parse(skb, &p) != PKT_OK)
		return TC_ACT_OK; /* not ours to judge: the node's stack sees it as it came */
	verdict = np4_from_netdev(skb, &p, len, &reason, &translated);
	if (translated)
		metrics_update(reason, DIR_INGRESS, len);
	return verdict;
}

SEC("tc")
int to_netdev(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 reason = REASON_FORWARDED;
	int translated = 0;
	struct pkt4 p;
	int verdict;

	if (pkt4_parse(skb, &p) != PKT_OK)
		return TC_ACT_OK;
	verdict = np4_to_netdev(skb, &p, len, &reason, &translated);
	if (translated)
		metrics_update(reason, DIR_EGRESS, len);
	return verdict;
}
