// SPDX-License-Identifier: Apache-2.0
/*
 * Declares every struct shared with the agent so that its BTF is the single layout reference.
 * CodecLayoutKernelTest compares each Java codec (CodecRegistry) against this object's BTF.
 */
#include "include/common.h"
#include "include/metrics.h"
#include "include/lb.h"
#include "include/ct.h"
#include "include/snat.h"
#include "include/ipcache.h"
#include "include/policy.h"
#include "include/events.h"
#include "include/lxc.h"

struct metrics_value _metrics_value;
struct lb4_key _lb4_key;
struct lb4_service _lb4_service;
struct lb4_backend _lb4_backend;
struct lb4_reverse_nat _lb4_reverse_nat;
struct lb4_affinity_key _lb4_affinity_key;
struct lb4_affinity_value _lb4_affinity_value;
struct ct4_key _ct4_key;
struct ct4_entry _ct4_entry;
struct snat4_entry _snat4_entry;
struct ipcache4_key _ipcache4_key;
struct ipcache4_value _ipcache4_value;
struct policy_key _policy_key;
struct policy_entry _policy_entry;
struct endpoint_policy _endpoint_policy;
struct event _event;
struct lxc4_info _lxc4_info;

char LICENSE[] SEC("license") = "Dual BSD/GPL";
