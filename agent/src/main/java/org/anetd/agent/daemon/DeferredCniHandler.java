package org.anetd.agent.daemon;

import org.anetd.agent.endpoint.CniHandler;
import org.anetd.agent.endpoint.CniRequest;
import org.anetd.agent.endpoint.CniResult;

/**
 * The CNI socket is served from agent start; requests go to a "not ready" handler (the runtime
 * retries) until the endpoint manager can take them.
 */
final class DeferredCniHandler implements CniHandler {
  private volatile CniHandler delegate = CniHandler.notReady("the agent is starting");

  void notReady(String reason) {
    delegate = CniHandler.notReady(reason);
  }

  void ready(CniHandler handler) {
    delegate = handler;
  }

  @Override
  public CniResult add(CniRequest request) {
    return delegate.add(request);
  }

  @Override
  public void del(CniRequest request) {
    delegate.del(request);
  }

  @Override
  public void check(CniRequest request) {
    delegate.check(request);
  }

  @Override
  public void status(CniRequest request) {
    delegate.status(request);
  }

  @Override
  public void gc(CniRequest request) {
    delegate.gc(request);
  }
}
