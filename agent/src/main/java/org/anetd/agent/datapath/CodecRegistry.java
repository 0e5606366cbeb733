package org.anetd.agent.datapath;

import java.util.List;

/**
 * Every (C struct -> Java codec) pair of the datapath: the one list a reviewer checks when a struct
 * in {@code ebpf/include} changes. CodecLayoutKernelTest compares each with ebpf/structs.c's BTF.
 */
public final class CodecRegistry {
  private CodecRegistry() {}

  public static final List<Codec<?>> CODECS = List.of(
      MetricsValueCodec.INSTANCE,
      Lb4KeyCodec.INSTANCE,
      Lb4ServiceCodec.INSTANCE,
      Lb4BackendCodec.INSTANCE,
      Lb4ReverseNatCodec.INSTANCE,
      Lb4AffinityKeyCodec.INSTANCE,
      Lb4AffinityValueCodec.INSTANCE,
      Ct4KeyCodec.INSTANCE,
      Ct4EntryCodec.INSTANCE,
      Snat4EntryCodec.INSTANCE,
      Ipcache4KeyCodec.INSTANCE,
      Ipcache4ValueCodec.INSTANCE,
      PolicyKeyCodec.INSTANCE,
      PolicyEntryCodec.INSTANCE,
      EndpointPolicyCodec.INSTANCE,
      EventCodec.INSTANCE,
      Lxc4InfoCodec.INSTANCE);
}
