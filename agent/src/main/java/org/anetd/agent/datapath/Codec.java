package org.anetd.agent.datapath;

/**
 * Encodes one C struct to the exact bytes a map stores and back. Implementations mirror a struct
 * in {@code ebpf/include} and declare its {@link Layout}.
 */
public interface Codec<T> {
  Layout layout();

  byte[] encode(T value);

  T decode(byte[] bytes);

  default int size() {
    return layout().size();
  }
}
