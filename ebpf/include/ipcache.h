/* SPDX-License-Identifier: Apache-2.0 */
/* IP prefix -> security identity, longest prefix wins. */
#ifndef ANETD_IPCACHE_H
#define ANETD_IPCACHE_H

#include "common.h"

/* Reserved identities (as Cilium's numbering). */
#define IDENTITY_UNKNOWN 0
#define IDENTITY_HOST 1
#define IDENTITY_WORLD 2
#define IDENTITY_REMOTE_NODE 6
#define IDENTITY_FIRST_ALLOCATED 256

#define IPCACHE_MAP_MAX_DEFAULT 512000

/* Mirrored by Ipcache4KeyCodec. */
struct ipcache4_key {
	__u32 prefixlen;    /* LPM trie prefix length in bits, host order */
	__be32 address;     /* network byte order */
};
_Static_assert(sizeof(struct ipcache4_key) == 8, "ipcache4_key");

/* Mirrored by Ipcache4ValueCodec. */
struct ipcache4_value {
	__u32 identity;
	__be32 node_address; /* node hosting the address, 0 for non-pod prefixes; network order */
	__u16 endpoint_id;   /* local endpoint id, 0 when the address is not a local pod */
	__u16 pad;
};
_Static_assert(sizeof(struct ipcache4_value) == 12, "ipcache4_value");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, IPCACHE_MAP_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipcache4_key);
	__type(value, struct ipcache4_value);
} anetd_ipcache4 SEC(".maps");

#endif
