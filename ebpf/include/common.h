/* SPDX-License-Identifier: Apache-2.0 */
/* Shared includes, protocol constants and small helpers for every anetd program. */
#ifndef ANETD_COMMON_H
#define ANETD_COMMON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
/* linux/icmp.h pulls in libc headers; ICMP constants are defined where they are used. */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Directions as seen by the endpoint (pod): traffic it receives is ingress. */
#define DIR_INGRESS 0
#define DIR_EGRESS 1

#ifndef AF_INET
#define AF_INET 2 /* not in the uapi headers a BPF object includes */
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef EEXIST
#define EEXIST 17 /* what bpf_map_update_elem returns for BPF_NOEXIST on a present key */
#endif

/*
 * The datapath's clock, read once per packet: CLOCK_MONOTONIC as of the last timer tick
 * (bpf_ktime_get_coarse_ns reads a stored value; bpf_ktime_get_ns reads the clocksource, about 5%
 * of a packet's cost in from_container). Conntrack lifetimes and affinity timeouts are seconds,
 * so a tick (1-10 ms) does not matter; the agent compares with System.nanoTime, the same clock.
 */
static __always_inline __u64 anetd_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/*
 * Maps are pinned by the agent (bpf_map__set_pin_path under /sys/fs/bpf/anetd), not by
 * libbpf's pin-by-name, so that every object shares them and a restarted agent adopts them.
 * max_entries below are defaults; the agent sets them from cilium-config before load.
 */

#endif
