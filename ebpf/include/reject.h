/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Immediate refusal of connections to a service without backends: the packet is turned, in
 * place, into the answer a closed port would give, and sent back where it came from
 * (reject_send).
 *   TCP  -> RST (RFC 9293 3.10.7.1: seq = their ack when ACK is set, else RST|ACK with
 *           ack = seq + segment length, SYN and FIN counting one)
 *   UDP  -> ICMP destination unreachable, port unreachable, quoting the original IPv4 header
 *           and the first 8 bytes of its payload (RFC 792)
 * The answer comes from the service address, so the client's socket matches it. Headers are
 * rebuilt without IP options, checksums computed from scratch.
 */
#ifndef ANETD_REJECT_H
#define ANETD_REJECT_H

#include "common.h"
#include "pkt.h"
#include "csum.h"
#include "lb.h"

#define REJECT_TTL 64
#define IP_DF 0x4000
#define IPTOS_PREC_INTERNETCONTROL 0xc0
#define ICMP_QUOTE_MAX (60 + 8)

static __always_inline void reject_eth_swap(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline void reject_ip_hdr(struct iphdr *ip, const struct pkt4 *p, __u8 proto,
					  __u16 tot_len, __u8 tos)
{
	__builtin_memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = tos;
	ip->tot_len = bpf_htons(tot_len);
	ip->frag_off = bpf_htons(IP_DF);
	ip->ttl = REJECT_TTL;
	ip->protocol = proto;
	ip->saddr = p->daddr;
	ip->daddr = p->saddr;
	ip->check = csum_ipv4_hdr(ip);
}

/*
 * Sends the answer built in place back to the sender. An object that answers pods from tc
 * ingress of their host veths (bpf_lxc) defines REJECT_INTO_PEER: the answer goes straight into
 * the pod (bpf_redirect_peer), as local delivery does, so the pod's own ingress policy in
 * to_container never judges the answer to a connection the pod opened (an ingress-isolated pod
 * would drop the RST and wait for a timeout). Otherwise (bpf_host, on an uplink) it leaves
 * through the interface it came in on.
 */
static __always_inline long reject_send(struct __sk_buff *skb)
{
#ifdef REJECT_INTO_PEER
	return bpf_redirect_peer(skb->ifindex, 0);
#else
	return bpf_redirect(skb->ifindex, 0);
#endif
}

/* Answers a TCP segment with a RST. Returns TC_ACT_REDIRECT, or TC_ACT_SHOT (incoming RST). */
static __noinline int reject_tcp(struct __sk_buff *skb, const struct pkt4 *p)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr in, out;

	if (p->tcp_flags & TCPF_RST)
		return TC_ACT_SHOT; /* never answer a RST */
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0 ||
	    bpf_skb_load_bytes(skb, p->l4_off, &in, sizeof(in)) < 0)
		return TC_ACT_SHOT;

	__builtin_memset(&out, 0, sizeof(out));
	out.source = p->dport;
	out.dest = p->sport;
	out.doff = sizeof(out) / 4;
	out.rst = 1;
	if (in.ack) {
		out.seq = in.ack_seq;
	} else {
		__u32 seg_len = p->l4_len - p->tcp_hlen + in.syn + in.fin;

		out.ack_seq = bpf_htonl(bpf_ntohl(in.seq) + seg_len);
		out.ack = 1;
	}
	out.check = csum_fold32(bpf_csum_diff(0, 0, (__be32 *)&out, sizeof(out),
					      csum_pseudo4(p->daddr, p->saddr, IPPROTO_TCP,
							   sizeof(out))));
	reject_eth_swap(&eth);
	reject_ip_hdr(&ip, p, IPPROTO_TCP, sizeof(ip) + sizeof(out), 0);

	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(ip) + sizeof(out), 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(ip), &out, sizeof(out), 0) < 0)
		return TC_ACT_SHOT;
	return reject_send(skb);
}

/* Answers a UDP datagram with ICMP port unreachable. Returns TC_ACT_REDIRECT or TC_ACT_SHOT. */
static __noinline int reject_udp(struct __sk_buff *skb, const struct pkt4 *p)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct {
		__u8 type;
		__u8 code;
		__sum16 check;
		__u32 unused;
	} icmp = { .type = ICMP_DEST_UNREACH, .code = ICMP_PORT_UNREACH };
	__u8 quote[ICMP_QUOTE_MAX];
	__u32 quote_len = p->l4_off - ETH_HLEN + 8; /* IPv4 header with options + 8 bytes */

	if (quote_len < sizeof(ip) + 8 || quote_len > sizeof(quote))
		return TC_ACT_SHOT;
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, quote, quote_len) < 0)
		return TC_ACT_SHOT;

	__s64 sum = bpf_csum_diff(0, 0, (__be32 *)&icmp, sizeof(icmp), 0);

	icmp.check = csum_fold32(bpf_csum_diff(0, 0, (__be32 *)quote, quote_len, sum));
	reject_eth_swap(&eth);
	reject_ip_hdr(&ip, p, IPPROTO_ICMP, sizeof(ip) + sizeof(icmp) + quote_len,
		      IPTOS_PREC_INTERNETCONTROL);

	__u32 icmp_off = ETH_HLEN + sizeof(ip);

	if (bpf_skb_change_tail(skb, icmp_off + sizeof(icmp) + quote_len, 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0) < 0 ||
	    bpf_skb_store_bytes(skb, icmp_off, &icmp, sizeof(icmp), 0) < 0 ||
	    bpf_skb_store_bytes(skb, icmp_off + sizeof(icmp), quote, quote_len, 0) < 0)
		return TC_ACT_SHOT;
	return reject_send(skb);
}

/* lb4_pick_or_refuse() picked a backend: translate to it (not a tc verdict to return). */
#define LB4_PICKED (-1)

/*
 * The new-connection step both the pod and the node programs share: a frontend without backends
 * refuses at once (TCP RST, ICMP port unreachable; never a timeout), otherwise one backend is
 * chosen (affinity, else a random slot) and looked up.
 *
 * Returns LB4_PICKED with the backend's id, address and port filled, or the verdict to return
 * (*reason set).
 */
static __always_inline int lb4_pick_or_refuse(struct __sk_buff *skb, struct pkt4 *p,
					      struct lb4_key *lkey, struct lb4_service *svc,
					      __u64 now, __u8 *reason, __u32 *backend_id,
					      __be32 *backend_addr, __be16 *backend_port)
{
	if (svc->count == 0 || (svc->flags & LB_F_NO_BACKENDS)) {
		*reason = REASON_NO_SERVICE_BACKEND;
		if (p->later_fragment)
			return TC_ACT_SHOT; /* its first fragment was refused: nothing to quote here */
		if (p->proto == IPPROTO_TCP)
			return reject_tcp(skb, p);
		if (p->proto == IPPROTO_UDP)
			return reject_udp(skb, p);
		return TC_ACT_SHOT;
	}

	__u32 id = lb4_select_backend(lkey, svc, p->saddr, now);
	struct lb4_backend *bep = id ? bpf_map_lookup_elem(&anetd_lb4_backends, &id) : NULL;

	if (!bep) {
		*reason = REASON_NO_SERVICE_BACKEND; /* slot or backend missing mid-update */
		return TC_ACT_SHOT;
	}
	*backend_id = id;
	*backend_addr = bep->address;
	*backend_port = bep->port;
	return LB4_PICKED;
}

#endif
