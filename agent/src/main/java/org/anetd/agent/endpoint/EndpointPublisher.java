package org.anetd.agent.endpoint;

import java.util.List;

/**
 * How the endpoint room hands a pod endpoint to whoever writes its ipcache and policy entries
 * (the agent's reconciler, the only writer of those maps). {@link #publish} returns once the
 * endpoint's entries are written, so a pod never starts with its policy missing.
 */
public interface EndpointPublisher {
  /** Publishes nothing: for programs attached where no agent writes ipcache or policy entries. */
  EndpointPublisher NONE = new EndpointPublisher() {
    @Override
    public void publish(Endpoint endpoint) {}

    @Override
    public void withdraw(Endpoint endpoint) {}

    @Override
    public List<String> problems(Endpoint endpoint) {
      return List.of();
    }
  };

  /**
   * Makes {@code endpoint} known and waits (bounded) until its entries are in the maps.
   *
   * @throws CniException when they were not written in time (the runtime retries the ADD)
   */
  void publish(Endpoint endpoint);

  /** Forgets {@code endpoint}; its entries go with the next write. Does not wait. */
  void withdraw(Endpoint endpoint);

  /** What is missing of {@code endpoint}'s entries (CNI CHECK); empty when all is in place. */
  List<String> problems(Endpoint endpoint);
}
