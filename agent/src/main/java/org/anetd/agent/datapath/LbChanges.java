package org.anetd.agent.datapath;

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

  public LbChanges {
    serviceUpserts = Map.copyOf(serviceUpserts);
    serviceDeletes = Set.copyOf(serviceDeletes);
    backendUpserts = Map.copyOf(backendUpserts);
    backendDeletes = Set.copyOf(backendDeletes);
    revNatUpserts = Map.copyOf(revNatUpserts);
    revNatDeletes = Set.copyOf(revNatDeletes);
  }

  public boolean isEmpty() {
    return serviceUpserts.isEmpty() && serviceDeletes.isEmpty() && backendUpserts.isEmpty()
        && backendDeletes.isEmpty() && revNatUpserts.isEmpty() && revNatDeletes.isEmpty();
  }
}
