package org.anetd.agent.datapath;

import java.util.Map;

/**
 * Writes the policy maps so that no update denies more than the old or the new policy would:
 * new allow entries go in first; then addresses move to their new identities (allowed under both
 * by now); only then do endpoints become isolated, once the peers they allow are known; stale
 * allow entries go last.
 *
 * <pre>
 *   upserts: policy entries -> ipcache -> endpoint isolation
 *   deletes: endpoints -> ipcache -> policy entries
 * </pre>
 */
public final class PolicyWriter {
  private final MapWriter<PolicyKey, PolicyEntry> policy;
  private final MapWriter<Long, EndpointPolicy> endpoints;
  private final MapWriter<Ipcache4Key, Ipcache4Value> ipcache;

  public PolicyWriter(MapBackend policy, MapBackend endpoints, MapBackend ipcache) {
    this.policy = new MapWriter<>(policy, PolicyKeyCodec.INSTANCE, PolicyEntryCodec.INSTANCE);
    this.endpoints = new MapWriter<>(endpoints, U32Codec.INSTANCE, EndpointPolicyCodec.INSTANCE);
    this.ipcache = new MapWriter<>(ipcache, Ipcache4KeyCodec.INSTANCE, Ipcache4ValueCodec.INSTANCE);
  }

  public WriteResult write(Map<PolicyKey, PolicyEntry> desiredPolicy,
      Map<Long, EndpointPolicy> desiredEndpoints, Map<Ipcache4Key, Ipcache4Value> desiredIpcache) {
    return policy.upsert(desiredPolicy)
        .plus(ipcache.upsert(desiredIpcache))
        .plus(endpoints.upsert(desiredEndpoints))
        .plus(endpoints.deleteStale(desiredEndpoints.keySet()))
        .plus(ipcache.deleteStale(desiredIpcache.keySet()))
        .plus(policy.deleteStale(desiredPolicy.keySet()));
  }

  public Map<PolicyKey, PolicyEntry> policy() {
    return policy.written();
  }

  public Map<Long, EndpointPolicy> endpoints() {
    return endpoints.written();
  }

  public Map<Ipcache4Key, Ipcache4Value> ipcache() {
    return ipcache.written();
  }
}
