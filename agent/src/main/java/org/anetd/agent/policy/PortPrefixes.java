package org.anetd.agent.policy;

import java.util.ArrayList;
import java.util.List;

/** Port ranges as the fewest 16-bit prefixes, so one endPort range is a few LPM entries. */
public final class PortPrefixes {
  /** Ports whose top {@code bits} bits equal those of {@code port}. */
  public record PortPrefix(int port, int bits) {
    public int first() {
      return port;
    }

    public int last() {
      return port + (1 << (16 - bits)) - 1;
    }

    @Override
    public String toString() {
      return port + "/" + bits;
    }
  }

  private PortPrefixes() {}

  /** The minimal prefix cover of {@code first..last} (inclusive, within 0..65535), ascending. */
  public static List<PortPrefix> of(int first, int last) {
    if (first < 0 || last > 0xffff || first > last) {
      throw new IllegalArgumentException("port range " + first + "-" + last);
    }
    List<PortPrefix> out = new ArrayList<>();
    int lo = first;
    while (lo <= last) {
      // Largest aligned block starting at lo that stays inside the range.
      int size = lo == 0 ? 1 << 16 : Integer.lowestOneBit(lo);
      while (lo + size - 1 > last) {
        size >>= 1;
      }
      out.add(new PortPrefix(lo, 16 - Integer.numberOfTrailingZeros(size)));
      lo += size;
    }
    return out;
  }
}
