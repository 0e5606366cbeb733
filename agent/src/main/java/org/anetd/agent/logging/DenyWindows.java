package org.anetd.agent.logging;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.anetd.agent.logging.PolicyActionRecord.Connection;

/**
 * Open deny aggregation windows, one per connection with the source port zeroed (a client's
 * retries and its parallel attempts to the same port are one line). A window opens at the first
 * denied packet and closes {@code length} later; its record carries the first packet's time and
 * the number of packets seen. Not thread-safe: the logger's single thread owns it.
 */
final class DenyWindows {
  private static final class Window {
    final long openedNanos;
    final PolicyActionRecord first;
    long count = 1;

    Window(long openedNanos, PolicyActionRecord first) {
      this.openedNanos = openedNanos;
      this.first = first;
    }

    PolicyActionRecord record() {
      return first.withCount(count);
    }
  }

  private final long lengthNanos;
  private final int maxOpen;
  // Insertion order is opening order (the ticker never goes back), so due windows are a prefix.
  private final LinkedHashMap<Connection, Window> open = new LinkedHashMap<>();

  DenyWindows(long lengthNanos, int maxOpen) {
    if (lengthNanos < 1 || maxOpen < 1) {
      throw new IllegalArgumentException("window length and size must be positive");
    }
    this.lengthNanos = lengthNanos;
    this.maxOpen = maxOpen;
  }

  /** True when a window is open for {@code key}: the packet was counted in it. */
  boolean countIfOpen(Connection key) {
    Window w = open.get(key);
    if (w == null) {
      return false;
    }
    w.count++;
    return true;
  }

  /**
   * Opens a window for {@code key} at {@code nowNanos}. When {@code maxOpen} windows are open
   * already, the oldest closes early and its record is returned (a flood of distinct sources
   * costs aggregation, never memory or records).
   */
  List<PolicyActionRecord> open(Connection key, long nowNanos, Supplier<PolicyActionRecord> first) {
    List<PolicyActionRecord> closed = new ArrayList<>(0);
    if (open.size() >= maxOpen) {
      Iterator<Window> oldest = open.values().iterator();
      closed.add(oldest.next().record());
      oldest.remove();
    }
    open.put(key, new Window(nowNanos, first.get()));
    return closed;
  }

  /** Closes the windows whose time is up at {@code nowNanos}, oldest first. */
  List<PolicyActionRecord> closeDue(long nowNanos) {
    List<PolicyActionRecord> closed = new ArrayList<>(0);
    for (Iterator<Map.Entry<Connection, Window>> it = open.entrySet().iterator(); it.hasNext(); ) {
      Window w = it.next().getValue();
      if (nowNanos - w.openedNanos < lengthNanos) {
        break;
      }
      closed.add(w.record());
      it.remove();
    }
    return closed;
  }

  /** Closes every window now (shutdown). */
  List<PolicyActionRecord> closeAll() {
    List<PolicyActionRecord> closed = open.values().stream().map(Window::record).toList();
    open.clear();
    return closed;
  }

  int size() {
    return open.size();
  }
}
