// SPDX-License-Identifier: Apache-2.0
/*
 * Socket-level load balancing (bpf-lb-sock): cgroup sock_addr programs on the node's cgroup v2
 * root, so every process of the node, in a pod or in the host namespace, has its TCP connect()
 * to a service frontend rewritten to a backend before the first packet exists. The connection
 * is then an ordinary pod-to-pod one: no conntrack entry of the service, no per-packet NAT.
 *
 *   sock4_connect:     cgroup/connect4. TCP to a frontend with backends, without session
 *                      affinity and not a NodePort: pick a random slot (as bpf_lxc does), note
 *                      socket cookie -> (backend, frontend) in anetd_lb4_sock_rev, rewrite the
 *                      destination. Everything else is left as it is and bpf_lxc translates it
 *                      per packet: refusal of frontends without backends (RST at once), affinity
 *                      (keyed by client IP there), NodePorts, and all UDP, whose conntrack purge
 *                      moves a flow off a removed backend, which a connected socket could not.
 *   sock4_getpeername: cgroup/getpeername4. The application sees the service address it
 *                      connected to, not the backend.
 *   sock_release:      cgroup/sock_release. Closing a socket removes its entry, so the map
 *                      holds one entry per open balanced socket and never has to evict.
 *
 * The programs never refuse a connect(): on any miss they return 1 and the packet path decides.
 */
#include "include/common.h"
#include "include/lb.h"
#include "include/metrics.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SOCK_ALLOW 1

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

/* Frontends whose translation stays with the per-packet path (see the header comment). */
#define LB_F_PER_PACKET_ONLY (LB_F_AFFINITY | LB_F_NODEPORT | LB_F_NO_BACKENDS)

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return SOCK_ALLOW;

	struct lb4_key key;
	__be32 address = ctx->user_ip4;
	__be16 port = (__be16)ctx->user_port;
	struct lb4_service *svc = lb4_lookup_frontend(&key, address, port, IPPROTO_TCP);

	if (!svc || svc->count == 0 || (svc->flags & LB_F_PER_PACKET_ONLY))
		return SOCK_ALLOW;

	__u32 id = lb4_select_backend(&key, svc, 0, 0);
	struct lb4_backend *be = id ? bpf_map_lookup_elem(&anetd_lb4_backends, &id) : NULL;

	if (!be)
		return SOCK_ALLOW; /* slot or backend missing mid-update: bpf_lxc picks */

	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct lb4_sock_rev rev = {
		.backend_address = be->address,
		.backend_port = be->port,
		.frontend_address = address,
		.frontend_port = port,
	};

	/* Full map: without the entry getpeername() would show the backend, so go per packet. */
	if (bpf_map_update_elem(&anetd_lb4_sock_rev, &cookie, &rev, BPF_ANY) < 0)
		return SOCK_ALLOW;
	ctx->user_ip4 = be->address;
	ctx->user_port = be->port;
	metrics_update(REASON_SOCK_LB_TRANSLATED, DIR_EGRESS, 0);
	return SOCK_ALLOW;
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return SOCK_ALLOW;

	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct lb4_sock_rev *rev = bpf_map_lookup_elem(&anetd_lb4_sock_rev, &cookie);

	/* The backend check: a socket connected again elsewhere after a failed attempt. */
	if (rev && rev->backend_address == ctx->user_ip4
	    && rev->backend_port == (__be16)ctx->user_port) {
		ctx->user_ip4 = rev->frontend_address;
		ctx->user_port = rev->frontend_port;
	}
	return SOCK_ALLOW;
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || ctx->family != AF_INET)
		return SOCK_ALLOW;

	__u64 cookie = bpf_get_socket_cookie(ctx);

	bpf_map_delete_elem(&anetd_lb4_sock_rev, &cookie);
	return SOCK_ALLOW;
}
