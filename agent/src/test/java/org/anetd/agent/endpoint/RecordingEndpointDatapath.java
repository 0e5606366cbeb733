package org.anetd.agent.endpoint;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.anetd.agent.datapath.Ipv4;

/** {@link EndpointDatapath} that remembers attached endpoints and logs every call. */
final class RecordingEndpointDatapath implements EndpointDatapath {
  final Map<Integer, Endpoint> attached = new LinkedHashMap<>();
  final List<String> log = new ArrayList<>();
  boolean loaded = true;
  boolean failAttach;
  /** Runs first in attach (after the endpoint is registered): a test parks an ADD there. */
  Runnable onAttach = () -> {};
  /** Runs when the manager asks to forget an address's connections. */
  java.util.function.Consumer<Ipv4> onForgetConnections = address -> {};

  @Override
  public boolean isLoaded() {
    return loaded;
  }

  @Override
  public void attach(Endpoint endpoint) {
    onAttach.run();
    log.add("attach " + endpoint.id() + " " + endpoint.hostIfname());
    if (failAttach) {
      throw new IllegalStateException("injected attach failure");
    }
    attached.put(endpoint.id(), endpoint);
  }

  @Override
  public void detach(Endpoint endpoint) {
    log.add("detach " + endpoint.id());
    attached.remove(endpoint.id());
  }

  @Override
  public void forgetConnections(Ipv4 address) {
    log.add("forget connections " + address);
    onForgetConnections.accept(address);
  }

  @Override
  public void retainOnly(Collection<Endpoint> endpoints) {
    log.add("retain only " + endpoints.stream().map(Endpoint::id).toList());
  }

  @Override
  public List<String> problems(Endpoint endpoint) {
    return attached.containsKey(endpoint.id()) ? List.of()
        : List.of("endpoint " + endpoint.id() + " is not attached");
  }
}
