package org.anetd.agent.datapath;

/** What one write pass did to the maps: for metrics, logs and tests. */
public record WriteResult(int noop, int created, int updated, int deleted) {
  public static final WriteResult NONE = new WriteResult(0, 0, 0, 0);

  public WriteResult plus(WriteResult o) {
    return new WriteResult(noop + o.noop, created + o.created, updated + o.updated,
        deleted + o.deleted);
  }

  public int changes() {
    return created + updated + deleted;
  }
}
