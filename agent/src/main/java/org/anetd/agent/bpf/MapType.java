package org.anetd.agent.bpf;

/** The BPF map types the agent uses (values of enum bpf_map_type). */
public enum MapType {
  HASH(1), ARRAY(2), PERCPU_HASH(5), PERCPU_ARRAY(6), LRU_HASH(9), LRU_PERCPU_HASH(10),
  LPM_TRIE(11), RINGBUF(27), OTHER(-1);

  private final int id;

  MapType(int id) {
    this.id = id;
  }

  public static MapType of(int id) {
    for (MapType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return OTHER;
  }

  /** Per-CPU maps return one value per possible CPU, each padded to 8 bytes. */
  public boolean perCpu() {
    return this == PERCPU_HASH || this == PERCPU_ARRAY || this == LRU_PERCPU_HASH;
  }
}
