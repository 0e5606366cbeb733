/* SPDX-License-Identifier: Apache-2.0 */
/* Service load balancing: frontends with backend slots, backends, reverse NAT, affinity. */
#ifndef ANETD_LB_H
#define ANETD_LB_H

#include "common.h"
#include "pkt.h"

#define LB_MAP_MAX_DEFAULT 65536

/* lb4_service.flags */
#define LB_F_AFFINITY 0x01      /* sessionAffinity: ClientIP */
#define LB_F_ETP_LOCAL 0x02     /* externalTrafficPolicy: Local (only local backends in slots) */
#define LB_F_ITP_LOCAL 0x04     /* internalTrafficPolicy: Local */
#define LB_F_NODEPORT 0x08      /* frontend is a NodePort (address = node IP) */
#define LB_F_EXTERNAL 0x10      /* LoadBalancer ingress IP or externalIP */
#define LB_F_NO_BACKENDS 0x20   /* known service without usable backends: reject, never time out */

/* lb4_key.scope */
#define LB_SCOPE_EXTERNAL 0
#define LB_SCOPE_INTERNAL 1

/*
 * A frontend (vip, port, proto) owns slots 0..count. Slot 0 is the master entry: it carries
 * count, flags, rev_nat_id and the affinity timeout; slots 1..count carry one backend id each.
 * Mirrored by Lb4KeyCodec.
 */
struct lb4_key {
	__be32 address;     /* network byte order */
	__be16 dport;       /* network byte order */
	__u16 backend_slot; /* 0 = master entry */
	__u8 proto;         /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 scope;         /* LB_SCOPE_*: separates ETP=Local/ITP=Local views of one frontend */
	__u8 pad[2];
};
_Static_assert(sizeof(struct lb4_key) == 12, "lb4_key");

/* Mirrored by Lb4ServiceCodec. */
struct lb4_service {
	__u32 backend_id;   /* slot > 0: backend id; slot 0: affinity timeout in seconds */
	__u16 count;        /* slot 0: number of backend slots */
	__u16 rev_nat_id;   /* reverse NAT index, the same on every slot of a frontend */
	__u8 flags;         /* LB_F_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct lb4_service) == 12, "lb4_service");

/* lb4_backend.state */
#define BACKEND_STATE_ACTIVE 0
#define BACKEND_STATE_TERMINATING 1

/* Mirrored by Lb4BackendCodec. Key: __u32 backend id. */
struct lb4_backend {
	__be32 address;     /* network byte order */
	__be16 port;        /* network byte order */
	__u8 proto;
	__u8 state;         /* BACKEND_STATE_*: terminating backends keep existing connections only */
};
_Static_assert(sizeof(struct lb4_backend) == 8, "lb4_backend");

/* Mirrored by Lb4ReverseNatCodec. Key: __u16 rev_nat_id. */
struct lb4_reverse_nat {
	__be32 address;     /* the service address replies must come from; network byte order */
	__be16 port;        /* network byte order */
	__u16 pad;
};
_Static_assert(sizeof(struct lb4_reverse_nat) == 8, "lb4_reverse_nat");

/* Mirrored by Lb4AffinityKeyCodec. */
struct lb4_affinity_key {
	__be32 client_ip;   /* network byte order */
	__u16 rev_nat_id;
	__u16 pad;
};
_Static_assert(sizeof(struct lb4_affinity_key) == 8, "lb4_affinity_key");

/* Mirrored by Lb4AffinityValueCodec. */
struct lb4_affinity_value {
	__u64 last_used_ns; /* anetd_now() of the last connection */
	__u32 backend_id;
	__u32 pad;
};
_Static_assert(sizeof(struct lb4_affinity_value) == 16, "lb4_affinity_value");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAP_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
} anetd_lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAP_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct lb4_backend);
} anetd_lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAP_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u16);
	__type(value, struct lb4_reverse_nat);
} anetd_lb4_reverse_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAP_MAX_DEFAULT);
	__type(key, struct lb4_affinity_key);
	__type(value, struct lb4_affinity_value);
} anetd_lb4_affinity SEC(".maps");

/*
 * The master entry of frontend (address, port, proto) as a client of this node sees it, or NULL.
 * A frontend with two views (externalTrafficPolicy or internalTrafficPolicy Local: the flag is
 * on its external-scope master) is looked up again in the internal scope, which is the view pods
 * and the node's own processes use; when no internal entry exists the external one serves. On
 * return *key is the master key of the view found.
 */
static __always_inline struct lb4_service *lb4_lookup_frontend(struct lb4_key *key,
							       __be32 address, __be16 port,
							       __u8 proto)
{
	key->address = address;
	key->dport = port;
	key->backend_slot = 0;
	key->proto = proto;
	key->scope = LB_SCOPE_EXTERNAL;
	key->pad[0] = 0;
	key->pad[1] = 0;

	struct lb4_service *svc = bpf_map_lookup_elem(&anetd_lb4_services, key);

	if (svc && (svc->flags & (LB_F_ETP_LOCAL | LB_F_ITP_LOCAL))) {
		key->scope = LB_SCOPE_INTERNAL;
		struct lb4_service *internal = bpf_map_lookup_elem(&anetd_lb4_services, key);

		if (internal)
			return internal;
		key->scope = LB_SCOPE_EXTERNAL;
	}
	return svc;
}

/* The master entry of the frontend a packet from a local pod addresses (lb4_lookup_frontend). */
static __always_inline struct lb4_service *lb4_lookup_service(struct lb4_key *key,
							      const struct pkt4 *p)
{
	return lb4_lookup_frontend(key, p->daddr, p->dport, p->proto);
}

/* The backend id in one slot (1..count) of a frontend, 0 when the slot is empty. */
static __always_inline __u32 lb4_slot_backend(struct lb4_key *key, __u16 slot)
{
	key->backend_slot = slot;
	struct lb4_service *s = bpf_map_lookup_elem(&anetd_lb4_services, key);

	key->backend_slot = 0;
	return s ? s->backend_id : 0;
}

struct lb4_slot_scan {
	struct lb4_key key;
	__u32 backend_id;
	__u32 found;
};

static long lb4_slot_scan_step(__u32 i, void *ctx)
{
	struct lb4_slot_scan *scan = ctx;

	scan->key.backend_slot = i + 1;
	struct lb4_service *s = bpf_map_lookup_elem(&anetd_lb4_services, &scan->key);

	if (s && s->backend_id == scan->backend_id) {
		scan->found = 1;
		return 1; /* stop */
	}
	return 0;
}

/* Whether backend_id is still in one of the slots 1..count (a bpf_loop over the slots). */
static __always_inline int lb4_backend_in_slots(const struct lb4_key *master, __u16 count,
						__u32 backend_id)
{
	struct lb4_slot_scan scan = { .key = *master, .backend_id = backend_id };

	bpf_loop(count, lb4_slot_scan_step, &scan, 0);
	return scan.found;
}

/*
 * Picks the backend of a new connection to the frontend whose master key and entry are given.
 * With session affinity (LB_F_AFFINITY; timeout in seconds in the master's backend_id) a
 * client keeps its backend while it used it within the timeout and the backend is still in a
 * slot; otherwise a random slot decides. Affinity is refreshed on every new connection.
 * Returns 0 when the chosen slot is empty (the agent is rewriting the frontend).
 */
static __always_inline __u32 lb4_select_backend(struct lb4_key *master,
						const struct lb4_service *svc, __be32 client,
						__u64 now)
{
	__u16 count = svc->count;
	__u8 affinity = svc->flags & LB_F_AFFINITY;
	__u64 timeout_ns = (__u64)svc->backend_id * 1000000000ULL;
	struct lb4_affinity_key akey = { .client_ip = client, .rev_nat_id = svc->rev_nat_id };
	__u32 id = 0;

	if (count == 0)
		return 0;
	if (affinity) {
		struct lb4_affinity_value *av = bpf_map_lookup_elem(&anetd_lb4_affinity, &akey);

		/* signed: an older program's finer clock may be a tick ahead of anetd_now() */
		if (av && (__s64)(now - av->last_used_ns) < (__s64)timeout_ns &&
		    lb4_backend_in_slots(master, count, av->backend_id))
			id = av->backend_id;
	}
	if (!id)
		id = lb4_slot_backend(master, bpf_get_prandom_u32() % count + 1);
	if (id && affinity) {
		struct lb4_affinity_value v = { .last_used_ns = now, .backend_id = id };

		bpf_map_update_elem(&anetd_lb4_affinity, &akey, &v, BPF_ANY);
	}
	return id;
}

#endif
