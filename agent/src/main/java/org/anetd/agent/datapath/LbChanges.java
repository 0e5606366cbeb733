package org.anetd.agent.datapath;

import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * What one pass changes in the load-balancer maps: entries to create or update and keys to delete,
 * per map. A key is never both upserted and deleted. Entries equal to what is written already are
 * allowed (the writer skips them), so a producer may re-send a whole Service it re-rendered.
 */
public record LbChanges(
    Map<Lb4Key, Lb4Service> serviceUpserts,
    Set<Lb4Key> serviceDeletes,
    Map<Long, Lb4Backend> backendUpserts,
    Set<Long> backendDeletes,
    Map<Integer, Lb4ReverseNat> revNatUpserts,
    Set<Integer> revNatDeletes) {

  public static final LbChanges NONE =
      new LbChanges(Map.of(), Set.of(), Map.of(), Set.of(), Map.of(), Set.of());

  /** Takes the collections as given (read-only views, not copies: a first pass holds them all). */
  public LbChanges {
    serviceUpserts = Collections.unmodifiableMap(serviceUpserts);
    serviceDeletes = Collections.unmodifiableSet(serviceDeletes);
    backendUpserts = Collections.unmodifiableMap(backendUpserts);
    backendDeletes = Collections.unmodifiableSet(backendDeletes);
    revNatUpserts = Collections.unmodifiableMap(revNatUpserts);
    revNatDeletes = Collections.unmodifiableSet(revNatDeletes);
  }

  public boolean isEmpty() {
    return serviceUpserts.isEmpty() && serviceDeletes.isEmpty() && backendUpserts.isEmpty()
        && backendDeletes.isEmpty() && revNatUpserts.isEmpty() && revNatDeletes.isEmpty();
  }
}
