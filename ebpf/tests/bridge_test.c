// SPDX-License-Identifier: Apache-2.0
/*
 * Exercises the Java libbpf bridge: a tunable set through rodata, an array counter,
 * and one ringbuf event per run. Used by BridgeKernelTest and `anetd bpf selftest`.
 */
#include "../include/common.h"
#include "../include/events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Value returned by the program; set by the loader before load. */
const volatile __u32 verdict = TC_ACT_OK;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} runs SEC(".maps");

SEC("tc")
int count_and_emit(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&runs, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);

	struct event *e = bpf_ringbuf_reserve(&anetd_events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->timestamp_ns = bpf_ktime_get_ns();
		e->type = EVENT_TRACE;
		e->reason = skb->len;
		bpf_ringbuf_submit(e, 0);
	}
	return verdict;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} connects SEC(".maps");

/* Counts IPv4 connect() calls in the cgroup it is attached to and lets them proceed. */
SEC("cgroup/connect4")
int count_connect4(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&connects, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 1;
}
