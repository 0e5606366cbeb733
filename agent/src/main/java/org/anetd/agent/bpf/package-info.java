/**
 * The native bridge to libbpf (libbpf.so.1) through jnr-ffi: objects, pinned maps, tc and cgroup
 * attachment, ring buffers, BTF and BPF_PROG_TEST_RUN.
 *
 * <p>Entry points: {@link org.anetd.agent.bpf.BpfObject} (open, configure, load, pin) and
 * {@link org.anetd.agent.bpf.BpfMap}. This room depends on nothing else in the agent; every other
 * room that touches the kernel goes through it. Every libbpf failure surfaces as a
 * {@link org.anetd.agent.bpf.BpfException} naming the operation, its target and the errno.
 */
package org.anetd.agent.bpf;
