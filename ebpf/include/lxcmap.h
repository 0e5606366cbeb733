/* SPDX-License-Identifier: Apache-2.0 */
/*
 * anetd_lxc: every local endpoint's address -> what delivering to it needs. The agent writes an
 * entry when it attaches an endpoint's programs and deletes it on detach. bpf_lxc delivers with
 * it (lxc.h); bpf_host asks it whether a backend is a pod of this node (nodeport.h).
 */
#ifndef ANETD_LXCMAP_H
#define ANETD_LXCMAP_H

#include "common.h"

#define LXC_MAP_MAX 65536
/* Mirrored by Lxc4InfoCodec. Key: the endpoint's IPv4 address (__be32, network order). */
struct lxc4_info {
	__u32 ifindex;      /* the endpoint's host veth, in the node's namespace */
	__u16 endpoint_id;  /* as in the ipcache; for `anetd bpf lxc list`, not used by the program */
	__u8 mac[6];        /* the pod's interface (destination MAC of delivered frames) */
	__u8 node_mac[6];   /* the host veth (source MAC: the pod's gateway answers from it) */
	__u8 pad[2];
};
_Static_assert(sizeof(struct lxc4_info) == 20, "lxc4_info");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LXC_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);
	__type(value, struct lxc4_info);
} anetd_lxc SEC(".maps");

#endif
