/* SPDX-License-Identifier: Apache-2.0 */
/* Internet checksum helpers for headers the datapath builds from scratch (RST, ICMP errors). */
#ifndef ANETD_CSUM_H
#define ANETD_CSUM_H

#include "common.h"

/* Folds a 32-bit one's complement sum (as bpf_csum_diff returns it) to the 16-bit checksum. */
static __always_inline __sum16 csum_fold32(__s64 sum)
{
	__u32 s = (__u32)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__sum16)~s;
}

/* Checksum of a 20-byte IPv4 header whose check field is zero. */
static __always_inline __sum16 csum_ipv4_hdr(struct iphdr *ip)
{
	return csum_fold32(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0));
}

/* One's complement sum of the TCP/UDP pseudo header; feed it as the seed of the L4 sum. */
static __always_inline __s64 csum_pseudo4(__be32 saddr, __be32 daddr, __u8 proto, __u16 l4_len)
{
	__be32 ph[3] = { saddr, daddr, bpf_htonl(((__u32)proto << 16) | l4_len) };

	return bpf_csum_diff(0, 0, ph, sizeof(ph), 0);
}

#endif
