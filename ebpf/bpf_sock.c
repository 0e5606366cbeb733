// SPDX-License-Identifier: Apache-2.0
/*
 * Socket-level load balancing (bpf-lb-sock): cgroup sock_addr programs on the node's cgroup v2
 * root, so every process of the node, in a pod or in the host namespace, has its connect() to a
 * service frontend rewritten to a backend before the first packet exists. The connection is then
 * an ordinary one to the backend: no conntrack entry of the service, no per-packet NAT.
 *
 * Pods and the node's own network namespace (anetd_sock_host, the netns cookie the agent writes
 * when it links the programs) are served differently, because only pods have a per-packet path
 * (bpf_lxc on their veth) behind the socket:
 *   pods       TCP without session affinity, NodePorts excepted. Everything else stays with
 *              bpf_lxc: refusal of frontends without backends (RST at once), affinity (keyed
 *              by the pod's IP), NodePorts (whose replies it forwards), and all UDP, whose
 *              conntrack purge moves a flow off a removed backend, which a connected socket
 *              could not.
 *   host       TCP and UDP, affinity included (keyed by client 0.0.0.0: the node itself),
 *              the NodePorts of the node's own addresses (as kube-proxy, to any endpoint: the
 *              frontend's internal view), and a frontend without backends refuses connect() /
 *              sendmsg() with ECONNREFUSED. Nothing else would translate them: host traffic
 *              passes no pod veth.
 *
 *   sock4_connect:     cgroup/connect4. Pick a backend (TCP: a random slot, as bpf_lxc does;
 *                      UDP: the slot the socket cookie picks, one backend per socket), note
 *                      the frontend (TCP: socket cookie -> (backend, frontend) in
 *                      anetd_lb4_sock_rev; UDP: (cookie, backend) -> frontend in
 *                      anetd_lb4_sock_udp_rev), rewrite the destination.
 *   sock4_sendmsg:     cgroup/sendmsg4. The same for each datagram of an unconnected host UDP
 *                      socket.
 *   sock4_recvmsg:     cgroup/recvmsg4. A datagram from a noted backend reads as coming from the
 *                      frontend (resolvers drop answers from an address they did not ask).
 *   sock4_getpeername: cgroup/getpeername4. The application sees the service address it
 *                      connected to, not the backend.
 *   sock6_connect, sock6_recvmsg, sock6_getpeername: the same for an AF_INET6 socket naming an
 *                      IPv4 peer v4-mapped (::ffff:a.b.c.d), as a JVM's sockets do. Its datagrams
 *                      pass sendmsg4: the kernel hands them to IPv4 with an AF_INET address.
 *                      Real IPv6 addresses are left alone (no IPv6 frontends).
 *   sock_release:      cgroup/sock_release. Closing a TCP socket removes its entry, so that map
 *                      holds one entry per open balanced socket and never has to evict. UDP
 *                      notes are many per unconnected socket: an LRU map ages them out.
 *
 * On a miss (no frontend, a slot missing mid-update) the call proceeds unchanged: a pod's packet
 * path decides; a host socket reaches nothing there.
 *
 * UDP notes are keyed by backend: one host socket sending to two frontends that share a backend
 * sees the answers of both as from the frontend it noted last. Notes of closed UDP sockets (a
 * resolver opens one per query) are left to age out of the LRU map.
 */
#include "include/common.h"
#include "include/lb.h"
#include "include/metrics.h"
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SOCK_ALLOW 1
#define SOCK_DENY 0
#ifndef ECONNREFUSED
#define ECONNREFUSED 111
#endif

/* Where a socket was connected, and the frontend it was connected away from. */
struct lb4_sock_rev {
	__be32 backend_address;   /* network byte order, as in user_ip4 */
	__be32 frontend_address;
	__be16 backend_port;      /* network byte order, as in user_port */
	__be16 frontend_port;
};

/*
 * Keyed by socket cookie; sock_release deletes the entry when the socket is closed. A plain
 * preallocated hash: an insert and a delete per balanced connection are a fraction of what the
 * alternatives measured (socket-local storage allocates and frees per socket, ~2% of a short
 * connection's CPU; an LRU map rotates and, once full, evicts on every insert). Sized by the
 * agent like the TCP conntrack map. When it is full, connect() is left to the per-packet path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAP_MAX_DEFAULT);
	__type(key, __u64);
	__type(value, struct lb4_sock_rev);
} anetd_lb4_sock_rev SEC(".maps");

/* A UDP datagram's note: which frontend a host socket's backend stands for. */
struct lb4_sock_udp_key {
	__u64 cookie;
	__be32 backend_address;
	__be16 backend_port;
	__u16 pad;
};

struct lb4_sock_udp_rev {
	__be32 frontend_address;
	__be16 frontend_port;
	__u16 pad;
};

/* Sized by the agent like the UDP conntrack map (bpf-ct-global-any-max). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct lb4_sock_udp_key);
	__type(value, struct lb4_sock_udp_rev);
} anetd_lb4_sock_udp_rev SEC(".maps");

/* The node's own network namespace cookie; 0 (never written): no socket is the host's. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} anetd_sock_host SEC(".maps");

/* Frontends a pod's socket leaves to bpf_lxc (see the header comment). */
#define LB_F_PER_PACKET_FOR_PODS (LB_F_AFFINITY | LB_F_NO_BACKENDS)

static __always_inline int sock_in_host_netns(void *ctx)
{
	__u32 zero = 0;
	__u64 *host = bpf_map_lookup_elem(&anetd_sock_host, &zero);

	return host && *host && bpf_get_netns_cookie(ctx) == *host;
}

enum sock_xlate {
	SOCK_XLATE_NONE,	/* not a frontend, or left to a pod's packet path: unchanged */
	SOCK_XLATE_DONE,	/* *address and *port now name a backend */
	SOCK_XLATE_REFUSE,	/* a frontend without backends: the call fails (retval set) */
};

/*
 * The backend a connect() or sendmsg() to the IPv4 frontend *address:*port (network byte order)
 * goes to instead, written over them. The hooks read and write the address where their socket
 * family keeps it (user_ip4, or the last word of a v4-mapped user_ip6).
 */
static __always_inline enum sock_xlate sock4_translate(struct bpf_sock_addr *ctx,
						       __be32 *address, __be16 *port)
{
	__u8 proto = ctx->protocol;
	int host = 0; /* asked only where pods and the host differ: a lookup and a helper call */

	if (proto == IPPROTO_UDP) {
		if (!sock_in_host_netns(ctx))
			return SOCK_XLATE_NONE; /* a pod's UDP: bpf_lxc on its veth */
		host = 1;
	} else if (proto != IPPROTO_TCP) {
		return SOCK_XLATE_NONE;
	}

	struct lb4_key key;
	struct lb4_service *svc = lb4_lookup_frontend(&key, *address, *port, proto);

	if (!svc)
		return SOCK_XLATE_NONE;
	/* a pod's NodePort connection is marked for its replies by bpf_lxc; the host has no other */
	if (!host && ((svc->flags & (LB_F_PER_PACKET_FOR_PODS | LB_F_NODEPORT)) ||
		      svc->count == 0)) {
		host = sock_in_host_netns(ctx);
		if (!host)
			return SOCK_XLATE_NONE; /* a pod: bpf_lxc on its veth does it */
	}
	if (svc->count == 0 || (svc->flags & LB_F_NO_BACKENDS)) {
		/*
		 * The call fails at once: ECONNREFUSED where the kernel lets a program say so (5.18+),
		 * EPERM before. (An unconnected UDP socket's sendto() fails too, where kube-proxy's
		 * ICMP answer would never reach it.)
		 */
		if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_set_retval))
			bpf_set_retval(-ECONNREFUSED);
		metrics_update(REASON_NO_SERVICE_BACKEND, DIR_EGRESS, 0);
		return SOCK_XLATE_REFUSE;
	}

	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u32 id;

	if (proto == IPPROTO_UDP && !(svc->flags & LB_F_AFFINITY))
		/* one socket, one backend: every datagram of an unconnected socket goes the same way */
		id = lb4_slot_backend(&key, cookie % svc->count + 1);
	else
		/* affinity: only host sockets get here with it, all as one client, the node */
		id = lb4_select_backend(&key, svc, 0, anetd_now());

	struct lb4_backend *be = id ? bpf_map_lookup_elem(&anetd_lb4_backends, &id) : NULL;

	if (!be)
		return SOCK_XLATE_NONE; /* slot or backend missing mid-update: a pod's packet path picks */

	long noted;

	if (proto == IPPROTO_TCP) {
		struct lb4_sock_rev rev = {
			.backend_address = be->address,
			.backend_port = be->port,
			.frontend_address = *address,
			.frontend_port = *port,
		};

		noted = bpf_map_update_elem(&anetd_lb4_sock_rev, &cookie, &rev, BPF_ANY);
	} else {
		struct lb4_sock_udp_key k = {
			.cookie = cookie, .backend_address = be->address, .backend_port = be->port };
		struct lb4_sock_udp_rev rev = { .frontend_address = *address, .frontend_port = *port };
		struct lb4_sock_udp_rev *was = bpf_map_lookup_elem(&anetd_lb4_sock_udp_rev, &k);

		/* the same note for each datagram: looked up (which keeps it young), not rewritten */
		if (was && was->frontend_address == *address && was->frontend_port == *port)
			noted = 0;
		else
			noted = bpf_map_update_elem(&anetd_lb4_sock_udp_rev, &k, &rev, BPF_ANY);
	}
	/*
	 * Full map (TCP; the UDP map is an LRU): a pod goes per packet, so that getpeername() does
	 * not show the backend; the host has no packet path, and a working connection that shows
	 * its backend beats one that never answers.
	 */
	if (noted < 0 && !host && !sock_in_host_netns(ctx))
		return SOCK_XLATE_NONE;
	*address = be->address;
	*port = be->port;
	metrics_update(REASON_SOCK_LB_TRANSLATED, DIR_EGRESS, 0);
	return SOCK_XLATE_DONE;
}

/* The peer a TCP socket's noted frontend stands for, if *address:*port is its backend. */
static __always_inline void sock4_tcp_restore_frontend(struct bpf_sock_addr *ctx,
						       __be32 *address, __be16 *port)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct lb4_sock_rev *rev = bpf_map_lookup_elem(&anetd_lb4_sock_rev, &cookie);

	/* The backend check: a socket connected again elsewhere after a failed attempt. */
	if (rev && rev->backend_address == *address && rev->backend_port == *port) {
		*address = rev->frontend_address;
		*port = rev->frontend_port;
	}
}

/*
 * A host UDP socket's peer as the application asked for it: the noted frontend of the backend
 * *address:*port, written over them. Notes are the host's only: a pod's socket costs one array
 * lookup, not the hash.
 */
static __always_inline void sock4_udp_restore_frontend(struct bpf_sock_addr *ctx,
						       __be32 *address, __be16 *port)
{
	if (!sock_in_host_netns(ctx))
		return;

	struct lb4_sock_udp_key k = {
		.cookie = bpf_get_socket_cookie(ctx),
		.backend_address = *address,
		.backend_port = *port,
	};
	struct lb4_sock_udp_rev *rev = bpf_map_lookup_elem(&anetd_lb4_sock_udp_rev, &k);

	if (rev) {
		*address = rev->frontend_address;
		*port = rev->frontend_port;
	}
}

/* Where a hook's socket address keeps an IPv4 peer: user_ip4, or a v4-mapped user_ip6. */
#define SOCK_PEER_IP4 0
#define SOCK_PEER_V4MAPPED 1

/* Whether the first three words of an IPv6 address are ::ffff: (a v4-mapped IPv4 address). */
static __always_inline int ip6_v4mapped_prefix(__u32 w0, __u32 w1, __u32 w2)
{
	return w0 == 0 && w1 == 0 && w2 == bpf_htonl(0x0000ffff);
}

/*
 * The IPv4 peer in ctx: user_ip4, or the last word of a v4-mapped user_ip6 (::ffff:a.b.c.d), as
 * an AF_INET6 socket names IPv4 peers (a JVM's sockets, unless told otherwise). 0: a real IPv6
 * address, which no frontend has. where is a constant in each program, so each keeps only the
 * accesses its hook allows.
 */
static __always_inline int sock_peer_read(struct bpf_sock_addr *ctx, int where,
					  __be32 *address, __be16 *port)
{
	*port = (__be16)ctx->user_port;
	if (where == SOCK_PEER_IP4) {
		*address = ctx->user_ip4;
		return 1;
	}
	if (!ip6_v4mapped_prefix(ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2]))
		return 0;
	*address = ctx->user_ip6[3];
	return 1;
}

/* Writes the IPv4 peer back where sock_peer_read found it (v4-mapped stays v4-mapped). */
static __always_inline void sock_peer_write(struct bpf_sock_addr *ctx, int where,
					    __be32 address, __be16 port)
{
	if (where == SOCK_PEER_IP4)
		ctx->user_ip4 = address;
	else
		ctx->user_ip6[3] = address;
	ctx->user_port = port;
}

/* connect() and sendmsg(): a frontend becomes a backend, or the call is refused. */
static __always_inline int sock_connect_hook(struct bpf_sock_addr *ctx, int where)
{
	__be32 address;
	__be16 port;

	if (!sock_peer_read(ctx, where, &address, &port))
		return SOCK_ALLOW;
	switch (sock4_translate(ctx, &address, &port)) {
	case SOCK_XLATE_REFUSE:
		return SOCK_DENY;
	case SOCK_XLATE_DONE:
		sock_peer_write(ctx, where, address, port);
		break;
	default:
		break;
	}
	return SOCK_ALLOW;
}

/* recvmsg() (UDP) and getpeername(): a noted backend reads as its frontend. */
static __always_inline int sock_peer_hook(struct bpf_sock_addr *ctx, int where)
{
	__be32 address;
	__be16 port;

	if (!sock_peer_read(ctx, where, &address, &port))
		return SOCK_ALLOW;
	if (ctx->protocol == IPPROTO_UDP)
		sock4_udp_restore_frontend(ctx, &address, &port);
	else if (ctx->protocol == IPPROTO_TCP)
		sock4_tcp_restore_frontend(ctx, &address, &port);
	else
		return SOCK_ALLOW;
	sock_peer_write(ctx, where, address, port);
	return SOCK_ALLOW;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock_connect_hook(ctx, SOCK_PEER_IP4);
}

/*
 * Whether a sendmsg4 call is a connected AF_INET6 socket's send() to its own peer. The kernel
 * hands every datagram of an AF_INET6 socket with a v4-mapped peer to IPv4's udp_sendmsg with
 * an AF_INET address, the connected peer included, so this hook sees them all, where it never
 * runs for a connected AF_INET socket's send(). Such a peer was settled at connect(): translated
 * there, or left as it was (connected before the programs were linked, or to a frontend with a
 * slot missing mid-update) to reach it the way it did, kube-proxy's DNAT say. Rewriting each
 * datagram would send it to a backend whose answers the socket, still connected to the
 * frontend, drops.
 */
static __always_inline int sock4_sendmsg_to_own_peer(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (ctx->family != AF_INET6 || !sk)
		return 0;
	/* the peer, v4-mapped, and its port (dst_port: network order, 16 bits since 5.16) */
	return sk->state == BPF_TCP_ESTABLISHED &&
	       ip6_v4mapped_prefix(sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2]) &&
	       sk->dst_ip6[3] == ctx->user_ip4 && sk->dst_port == (__be16)ctx->user_port;
}

/*
 * UDP only reaches this hook; an AF_INET6 socket's datagram to a v4-mapped address too (the
 * kernel hands it to IPv4's sendmsg with an AF_INET address).
 */
SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	if (sock4_sendmsg_to_own_peer(ctx))
		return SOCK_ALLOW;
	return sock_connect_hook(ctx, SOCK_PEER_IP4);
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock_peer_hook(ctx, SOCK_PEER_IP4);
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return sock_peer_hook(ctx, SOCK_PEER_IP4);
}

/* An AF_INET6 socket's connect() to a v4-mapped frontend: TCP, and UDP's connect(). */
SEC("cgroup/connect6")
int sock6_connect(struct bpf_sock_addr *ctx)
{
	return sock_connect_hook(ctx, SOCK_PEER_V4MAPPED);
}

/* An AF_INET6 UDP socket's answer from a v4-mapped backend. */
SEC("cgroup/recvmsg6")
int sock6_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock_peer_hook(ctx, SOCK_PEER_V4MAPPED);
}

SEC("cgroup/getpeername6")
int sock6_getpeername(struct bpf_sock_addr *ctx)
{
	return sock_peer_hook(ctx, SOCK_PEER_V4MAPPED);
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *ctx)
{
	/* AF_INET6 too: its connect() to a v4-mapped frontend wrote an entry (sock6_connect) */
	if (ctx->protocol != IPPROTO_TCP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return SOCK_ALLOW;

	__u64 cookie = bpf_get_socket_cookie(ctx);

	bpf_map_delete_elem(&anetd_lb4_sock_rev, &cookie);
	return SOCK_ALLOW;
}
