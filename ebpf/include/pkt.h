/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing of Ethernet + IPv4 + TCP/UDP/ICMP echo into a small summary (struct pkt4).
 *
 * Headers are read with bpf_skb_load_bytes, so IP options (ihl > 5) cost nothing special.
 * Outcomes:
 *   PKT_OK         IPv4 TCP, UDP or ICMP echo with a complete L4 header: tuple filled in;
 *                  or a later fragment of such a datagram whose first fragment was seen here.
 *   PKT_PASS       not for us: non-IPv4, other L4 protocols, ICMP other than echo, and
 *                  later fragments whose first one was not seen (see below).
 *   PKT_MALFORMED  truncated or inconsistent headers (ihl < 5, tot_len shorter than the
 *                  headers, TCP doff < 5, packet shorter than the headers it claims).
 *
 * Fragments: a first fragment (offset 0, MF set) carries the L4 header and is handled like
 * any packet; its ports are noted in anetd_frag4 under (source, destination, IP id, protocol),
 * as the hook sees them, for FRAG4_NOTE_NS. A later fragment (offset > 0) has no L4 header: it
 * takes the ports of that note, so it follows its first fragment through conntrack, service
 * translation and policy, and p->later_fragment tells the rewriters (nat.h) to change its
 * addresses only. Its first fragment carried the L4 checksum, already updated for the whole
 * datagram. IP ids are unique per sender only: when two live datagrams with other ports share a
 * key (senders behind one SNAT address) and overlap, the note is marked ambiguous and the later
 * fragments of both are passed as they came, never judged or translated with the other's ports.
 * A note whose last fragment (MF clear) passed is done: the next first fragment on its key
 * replaces it. Without a live, unambiguous note (a later fragment overtook its first one, the
 * note was evicted or is ambiguous) a later fragment is passed as it came: unjudged, and lost if
 * its datagram needed translation, as every fragmented service datagram was before fragments
 * were tracked.
 * kube-proxy gets this from conntrack, which reassembles; here every fragment is translated as
 * it passes.
 */
#ifndef ANETD_PKT_H
#define ANETD_PKT_H

#include "common.h"

#define PKT_OK 0
#define PKT_PASS 1
#define PKT_MALFORMED 2

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_PORT_UNREACH 3
#define ICMP_ECHO 8

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* TCP flags as in byte 13 of the TCP header. */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

struct pkt4 {
	__be32 saddr;       /* network byte order, as on the wire */
	__be32 daddr;
	__be16 sport;       /* network byte order; ICMP echo: the echo id */
	__be16 dport;       /* network byte order; ICMP echo: the echo id */
	__u16 l4_off;       /* offset of the L4 header from the start of the frame */
	__u16 ip_len;       /* IPv4 tot_len, host order */
	__u16 l4_len;       /* ip_len minus the IPv4 header, host order */
	__u8 proto;         /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_ICMP */
	__u8 tcp_flags;     /* TCPF_*, TCP only */
	__u8 tcp_hlen;      /* doff * 4, TCP only */
	__u8 icmp_type;     /* ICMP only */
	__u8 later_fragment; /* no L4 header here: ports from anetd_frag4, rewrite addresses only */
	__u8 pad;
};

/* A fragmented datagram as each of its fragments names it. */
struct frag4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;
	__u8 proto;
	__u8 pad;
};

/* What a later fragment takes from its first one. */
struct frag4_ports {
	__u64 expires_ns;   /* anetd_now() after which the note is stale */
	__be16 sport;
	__be16 dport;
	__u8 icmp_type;
	__u8 ambiguous;     /* two live datagrams with other ports on this key: trust neither */
	__u8 done;          /* the last fragment (MF clear) passed: the IP id is free again */
	__u8 pad;
};

#define FRAG4_MAP_MAX 8192
/*
 * How long a note serves: a datagram's fragments pass within moments of each other, while an IP
 * id comes back to a busy address pair within seconds (65,536 ids).
 */
#define FRAG4_NOTE_NS (2ULL * 1000000000ULL)

/*
 * Ports of fragmented datagrams, by first fragment (see the header comment). An LRU map: a
 * datagram's fragments pass within moments of each other, and nothing says when the last did.
 * Every program that parses shares it (pinned by name), as the same datagram may pass several
 * hooks under different addresses: each notes its own view.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRAG4_MAP_MAX);
	__type(key, struct frag4_key);
	__type(value, struct frag4_ports);
} anetd_frag4 SEC(".maps");

/* A TCP SYN without ACK: the first packet of a new connection. */
static __always_inline int pkt4_is_tcp_syn(const struct pkt4 *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
}

/* Whether a and b carry the same 5-tuple (a rewrite left it as it was). */
static __always_inline int pkt4_same_tuple(const struct pkt4 *a, const struct pkt4 *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport &&
	       a->dport == b->dport;
}

/* Offset of the L4 checksum field from the L4 header. */
static __always_inline __u32 pkt4_l4_csum_off(const struct pkt4 *p)
{
	if (p->proto == IPPROTO_TCP)
		return p->l4_off + 16;
	if (p->proto == IPPROTO_UDP)
		return p->l4_off + 6;
	return p->l4_off + 2; /* ICMP */
}

/*
 * Notes the ports of a first fragment (see the header comment). A live note with the same ports
 * (the same datagram passing again) is refreshed; one with other ports is marked ambiguous. A
 * full map evicts the oldest note: its datagram is long done or lost.
 */
static __always_inline void frag4_note(const struct frag4_key *k, const struct pkt4 *p)
{
	__u64 now = anetd_now();
	struct frag4_ports ports = {
		.expires_ns = now + FRAG4_NOTE_NS,
		.sport = p->sport, .dport = p->dport, .icmp_type = p->icmp_type };
	struct frag4_ports *noted = bpf_map_lookup_elem(&anetd_frag4, k);

	if (!noted) {
		if (bpf_map_update_elem(&anetd_frag4, k, &ports, BPF_NOEXIST) == 0)
			return;
		noted = bpf_map_lookup_elem(&anetd_frag4, k); /* another CPU noted it meanwhile */
		if (!noted)
			return;
	}
	if (noted->expires_ns < now || noted->done) {
		/* a datagram long gone, or complete: its sender may use the id again (ids of one
		 * address pair come round within a second at high rates) */
		bpf_map_update_elem(&anetd_frag4, k, &ports, BPF_ANY);
		return;
	}
	if (noted->sport != p->sport || noted->dport != p->dport)
		noted->ambiguous = 1;
	else
		noted->expires_ns = ports.expires_ns;
}

/* The key of the datagram ip is a fragment of (fragments only: parsing builds it for them). */
static __always_inline struct frag4_key *frag4_key_of(struct frag4_key *k,
						      const struct iphdr *ip)
{
	k->saddr = ip->saddr;
	k->daddr = ip->daddr;
	k->id = ip->id;
	k->proto = ip->protocol;
	k->pad = 0;
	return k;
}

/*
 * The L4 header of a packet or first fragment at p->l4_off: ports (ICMP echo: the id), TCP flags
 * and header length, ICMP type. A first fragment is checked against its own piece only.
 */
static __always_inline int pkt4_parse_l4(struct __sk_buff *skb, struct pkt4 *p)
{
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr tcp;

		if (p->l4_len < sizeof(tcp) ||
		    bpf_skb_load_bytes(skb, p->l4_off, &tcp, sizeof(tcp)) < 0)
			return PKT_MALFORMED;
		if (tcp.doff < 5 || tcp.doff * 4 > p->l4_len)
			return PKT_MALFORMED;
		p->sport = tcp.source;
		p->dport = tcp.dest;
		p->tcp_hlen = tcp.doff * 4;
		p->tcp_flags = ((__u8 *)&tcp)[13];
		return PKT_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr udp;

		if (p->l4_len < sizeof(udp) ||
		    bpf_skb_load_bytes(skb, p->l4_off, &udp, sizeof(udp)) < 0)
			return PKT_MALFORMED;
		p->sport = udp.source;
		p->dport = udp.dest;
		return PKT_OK;
	}
	case IPPROTO_ICMP: {
		/* type, code, checksum, id, sequence */
		struct {
			__u8 type;
			__u8 code;
			__be16 csum;
			__be16 id;
			__be16 seq;
		} icmp;

		if (p->l4_len < sizeof(icmp) ||
		    bpf_skb_load_bytes(skb, p->l4_off, &icmp, sizeof(icmp)) < 0)
			return PKT_MALFORMED;
		if (icmp.type != ICMP_ECHO && icmp.type != ICMP_ECHOREPLY)
			return PKT_PASS; /* errors: to_container translates those to clients */
		p->icmp_type = icmp.type;
		p->sport = icmp.id;
		p->dport = icmp.id;
		return PKT_OK;
	}
	default:
		return PKT_PASS;
	}
}

static __always_inline int pkt4_parse(struct __sk_buff *skb, struct pkt4 *p)
{
	struct iphdr ip;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return PKT_PASS;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return PKT_MALFORMED;
	if (ip.version != 4 || ip.ihl < 5)
		return PKT_MALFORMED;

	__u16 ihl_bytes = ip.ihl * 4;
	__u16 ip_len = bpf_ntohs(ip.tot_len);

	if (ip_len == 0 && skb->len > 0xffff)
		return PKT_PASS; /* BIG TCP super-packet (tot_len 0): not translated */

	if (ip_len < ihl_bytes || ETH_HLEN + (__u32)ip_len > skb->len)
		return PKT_MALFORMED;

	__u16 frag = bpf_ntohs(ip.frag_off);
	struct frag4_key fkey;

	__builtin_memset(p, 0, sizeof(*p));
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->proto = ip.protocol;
	p->ip_len = ip_len;
	p->l4_off = ETH_HLEN + ihl_bytes;
	p->l4_len = ip_len - ihl_bytes;

	if (frag & IP_OFFSET) {
		/* a later fragment: the ports its first fragment carried, if that passed here */
		struct frag4_ports *noted = bpf_map_lookup_elem(&anetd_frag4,
								frag4_key_of(&fkey, &ip));

		if (!noted || noted->ambiguous || noted->expires_ns < anetd_now())
			return PKT_PASS;
		p->sport = noted->sport;
		p->dport = noted->dport;
		p->icmp_type = noted->icmp_type;
		p->later_fragment = 1;
		if (!(frag & IP_MF))
			noted->done = 1; /* the last one: a reordered middle one may still follow */
		return PKT_OK;
	}

	int parsed = pkt4_parse_l4(skb, p);

	if (parsed == PKT_OK && (frag & IP_MF))
		frag4_note(frag4_key_of(&fkey, &ip), p);
	return parsed;
}

#endif
