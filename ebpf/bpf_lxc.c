// SPDX-License-Identifier: Apache-2.0
/*
 * Programs on the host end of each pod veth.
 *   from_container: tc ingress of the host veth = packets the pod sends.
 *   to_container:   tc egress of the host veth  = packets delivered to the pod.
 * Service translation, conntrack and policy grow here; every packet is counted.
 */
#include "include/common.h"
#include "include/metrics.h"
#include "include/lb.h"
#include "include/ct.h"
#include "include/ipcache.h"
#include "include/policy.h"
#include "include/events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int from_container(struct __sk_buff *skb)
{
	metrics_update(REASON_FORWARDED, DIR_EGRESS, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int to_container(struct __sk_buff *skb)
{
	metrics_update(REASON_FORWARDED, DIR_INGRESS, skb->len);
	return TC_ACT_OK;
}
