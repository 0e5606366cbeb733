package org.anetd.agent.bpf;

import java.util.function.Consumer;
import jnr.ffi.Pointer;

/**
 * Polls a BPF ring buffer map and hands each record to a Java consumer, on the polling thread.
 * The native callback is held in a field: jnr-ffi callbacks that get garbage-collected while
 * libbpf still calls them crash the JVM.
 */
public final class RingBuffer implements AutoCloseable {
  private final LibBpfNative.SampleCallback callback; // strongly referenced on purpose
  private final String mapName;
  private Pointer rb;

  private RingBuffer(BpfMap map, Consumer<byte[]> consumer) {
    this.mapName = map.name();
    this.callback = (ctx, data, size) -> {
      byte[] record = new byte[(int) size];
      data.get(0, record, 0, record.length);
      try {
        consumer.accept(record);
        return 0;
      } catch (RuntimeException e) {
        return -1; // stops this poll; the error surfaces through poll()'s result
      }
    };
    Native n = Native.get();
    this.rb = n.bpf.ring_buffer__new(map.fd(), callback, null, null);
    if (rb == null) {
      throw new BpfException("ring_buffer__new", "map " + mapName, -n.lastErrno());
    }
  }

  public static RingBuffer open(BpfMap map, Consumer<byte[]> consumer) {
    if (map.type() != MapType.RINGBUF) {
      throw new IllegalArgumentException("map " + map.name() + " is " + map.type() + ", not RINGBUF");
    }
    return new RingBuffer(map, consumer);
  }

  /** Waits up to {@code timeoutMs} for records; returns how many were consumed. */
  public int poll(int timeoutMs) {
    int rc = Native.get().bpf.ring_buffer__poll(handle(), timeoutMs);
    if (rc == -4) { // EINTR: a signal, not an error
      return 0;
    }
    return BpfException.check(rc, "ring_buffer__poll", "map " + mapName);
  }

  @Override
  public synchronized void close() {
    if (rb != null) {
      Native.get().bpf.ring_buffer__free(rb);
      rb = null;
    }
  }

  private synchronized Pointer handle() {
    if (rb == null) {
      throw new IllegalStateException("ring buffer of " + mapName + " is closed");
    }
    return rb;
  }
}
