/**
 * Typed views of the datapath maps: one codec per C struct in {@code ebpf/include}, each an
 * immutable record plus encode/decode at named offsets, and {@link
 * org.anetd.agent.datapath.CodecRegistry}, the one list checked against the compiled object's BTF.
 *
 * <p>Depends on {@code org.anetd.agent.bpf} only for the map handles the writer uses; compilers
 * (service, policy) produce these records and never touch the kernel.
 */
package org.anetd.agent.datapath;
