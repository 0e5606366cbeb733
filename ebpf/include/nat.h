/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Address and port rewriting of IPv4 TCP/UDP/ICMP echo packets with incremental checksums.
 *
 * The IPv4 header checksum is fixed with bpf_l3_csum_replace, the L4 checksum with
 * bpf_l4_csum_replace: BPF_F_PSEUDO_HDR for addresses (they are in the TCP/UDP pseudo header,
 * and the helper then also keeps CHECKSUM_PARTIAL packets from the pod's stack right), none
 * for ports. UDP uses BPF_F_MARK_MANGLED_0: a zero checksum (none) stays zero and a result of
 * zero is written as 0xffff. ICMP has no pseudo header: an address change leaves it alone.
 * A later fragment (p->later_fragment) has no L4 header: only its IPv4 header changes; the
 * ports it stands for (p) change with it, and its first fragment carried the L4 checksum.
 */
#ifndef ANETD_NAT_H
#define ANETD_NAT_H

#include "common.h"
#include "pkt.h"

/*
 * Source address of hairpinned service connections (a pod reaching itself through its own
 * Service), host byte order, default 169.254.42.1. Link-local and never assigned to anything,
 * so the pod's reply goes back through its veth, where it is reverse-translated.
 */
const volatile __u32 hairpin_ipv4 = 0xa9fe2a01;

#define NAT_SADDR_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, saddr))
#define NAT_DADDR_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, daddr))
#define NAT_IP_CSUM_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, check))

static __always_inline __u64 nat_l4_flags(const struct pkt4 *p)
{
	return p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* Rewrites one address (source when is_src, else destination) and keeps p in step. */
static __always_inline int nat4_rewrite_addr(struct __sk_buff *skb, struct pkt4 *p, int is_src,
					     __be32 to)
{
	__be32 from = is_src ? p->saddr : p->daddr;
	__u32 off = is_src ? NAT_SADDR_OFF : NAT_DADDR_OFF;

	if (from == to)
		return 0;
	if (p->proto != IPPROTO_ICMP && !p->later_fragment &&
	    bpf_l4_csum_replace(skb, pkt4_l4_csum_off(p), from, to,
				BPF_F_PSEUDO_HDR | sizeof(to) | nat_l4_flags(p)) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, NAT_IP_CSUM_OFF, from, to, sizeof(to)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0) < 0)
		return -1;
	if (is_src)
		p->saddr = to;
	else
		p->daddr = to;
	return 0;
}

/* Rewrites one L4 port (source when is_src, else destination); ICMP echo ids are not moved. */
static __always_inline int nat4_rewrite_port(struct __sk_buff *skb, struct pkt4 *p, int is_src,
					     __be16 to)
{
	__be16 from = is_src ? p->sport : p->dport;
	/* source and dest are the first two 16-bit words of both TCP and UDP headers */
	__u32 off = p->l4_off + (is_src ? 0 : 2);

	if (from == to || p->proto == IPPROTO_ICMP)
		return 0;
	if (!p->later_fragment &&
	    (bpf_l4_csum_replace(skb, pkt4_l4_csum_off(p), from, to,
				 sizeof(to) | nat_l4_flags(p)) < 0 ||
	     bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0) < 0))
		return -1;
	if (is_src)
		p->sport = to;
	else
		p->dport = to;
	return 0;
}

static __always_inline int nat4_dnat(struct __sk_buff *skb, struct pkt4 *p, __be32 addr,
				     __be16 port)
{
	if (nat4_rewrite_addr(skb, p, 0, addr) < 0)
		return -1;
	return nat4_rewrite_port(skb, p, 0, port);
}

static __always_inline int nat4_snat(struct __sk_buff *skb, struct pkt4 *p, __be32 addr,
				     __be16 port)
{
	if (nat4_rewrite_addr(skb, p, 1, addr) < 0)
		return -1;
	return nat4_rewrite_port(skb, p, 1, port);
}

#endif
