/* SPDX-License-Identifier: Apache-2.0 */
/* Service load balancing: frontends with backend slots, backends, reverse NAT, affinity. */
#ifndef ANETD_LB_H
#define ANETD_LB_H

#include "common.h"

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
	__u64 last_used_ns; /* bpf_ktime_get_ns() of the last connection */
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

#endif
