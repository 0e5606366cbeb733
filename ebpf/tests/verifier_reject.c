// SPDX-License-Identifier: Apache-2.0
/*
 * A program the verifier must reject: it reads packet data without checking it against
 * data_end. LibBpfLogKernelTest loads it to see the verifier's log reach the agent's log whole.
 */
#include "../include/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int reads_unchecked_packet_data(struct __sk_buff *skb)
{
	/* Checked work first, so that the verifier's log is over 1 KiB. */
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 64; i++)
		if (skb->mark == i)
			sum += skb->len;
	__u8 *data = (__u8 *)(long)skb->data;

	return data[sum & 7];
}
