// SPDX-License-Identifier: Apache-2.0
/*
 * Programs on the host end of each pod veth.
 *   from_container: tc ingress of the host veth = packets the pod sends.
 *                   A TCP packet of a connection the pod's policy entry tracks and no
 *                   service translates per packet passes at once (policy_fast_path).
 *                   Others: service translation and conntrack (include/service.h), then egress
 *                   policy on the translated packet (include/policy.h); replies to clients
 *                   outside the node are forwarded (fib.h); packets to another pod of this
 *                   node are delivered to it directly, with its ingress policy (lxc.h).
 *   to_container:   tc egress of the host veth  = packets delivered to the pod through the
 *                   node's stack. Replies of service connections to backends outside this
 *                   node's pods are translated back (svc4_to_container), then ingress policy
 *                   (include/policy.h).
 * Every packet is counted in anetd_metrics by reason and direction (DIR_* as the pod sees it).
 */
/* refusals go straight into the pod, past its ingress policy (include/reject.h) */
#define REJECT_INTO_PEER
#include "include/common.h"
#include "include/metrics.h"
#include "include/pkt.h"
#include "include/lb.h"
#include "include/ct.h"
#include "include/service.h"
#include "include/fib.h"
#include "include/ipcache.h"
#include "include/policy.h"
#include "include/events.h"
#include "include/lxc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int from_container(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 reason = REASON_FORWARDED;
	const struct lxc4_info *local = NULL;
	struct ct4_entry *tracked;
	int forward = 0;
	__u64 now = 0;
	struct pkt4 p, orig;
	int verdict;

	switch (pkt4_parse(skb, &p)) {
	case PKT_MALFORMED:
		return metrics_drop(REASON_MALFORMED, DIR_EGRESS, len);
	case PKT_OK:
		now = anetd_now(); /* one clock read for every step of this packet */
		tracked = policy_egress_entry(&p, now);
		if (tracked && policy_fast_path(tracked, &p)) {
			/* a tracked TCP connection no service translates: nothing to decide */
			policy_account(tracked, DIR_EGRESS, &p, 0, len, now);
			verdict = TC_ACT_OK;
			local = lxc4_local_peer(&p, &p);
			break;
		}
		orig = p;
		verdict = svc4_from_container(skb, &p, len, now, &reason, &forward);
		if (verdict != TC_ACT_OK) {
			/* dropped, or refused with a RST / ICMP error sent back to the pod */
			metrics_update(reason, DIR_EGRESS, len);
			return verdict;
		}
		/*
		 * tracked is still this connection's entry: the service step writes other keys only,
		 * and an insert into a full LRU map evicts entries not used lately first
		 */
		if (tracked) /* decided when it began */
			policy_account(tracked, DIR_EGRESS, &p, !pkt4_same_tuple(&orig, &p), len, now);
		else
			verdict = policy_egress_hook(&orig, &p, len, now, &reason);
		if (verdict == TC_ACT_OK && !forward)
			local = lxc4_local_peer(&orig, &p);
		break;
	default:
		/* not translated nor policed: non-IPv4, other protocols, later fragments */
		verdict = TC_ACT_OK;
		break;
	}
	if (verdict == TC_ACT_OK && forward)
		verdict = fib4_redirect(skb, &p, &reason); /* NodePort reply: out of the node's uplink */
	metrics_update(reason, DIR_EGRESS, len);
	if (local)
		return lxc4_deliver(skb, &p, local, len, now); /* another pod of this node */
	return verdict;
}

SEC("tc")
int to_container(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 reason = REASON_FORWARDED;
	__u64 now;
	struct pkt4 p;
	int verdict = TC_ACT_OK;

	switch (pkt4_parse(skb, &p)) {
	case PKT_MALFORMED:
		return metrics_drop(REASON_MALFORMED, DIR_INGRESS, len);
	case PKT_OK:
		now = anetd_now();
		/* a service reply from a backend outside this node's pods: from the frontend again */
		verdict = svc4_to_container(skb, &p, len, now, &reason);
		if (verdict == TC_ACT_OK)
			verdict = policy_ingress_hook(&p, len, now, &reason);
		break;
	default:
		/* not policed: non-IPv4, other protocols, ICMP errors, later fragments */
		verdict = svc4_icmp_error_to_container(skb, &reason);
		break;
	}
	metrics_update(reason, DIR_INGRESS, len);
	return verdict;
}
