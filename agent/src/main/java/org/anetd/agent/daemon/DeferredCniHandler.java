package org.anetd.agent.daemon;

import java.util.Optional;
import org.anetd.agent.endpoint.CniHandler;
import org.anetd.agent.endpoint.CniRequest;
import org.anetd.agent.endpoint.CniResult;

/**
 * The CNI socket is served from agent start; requests go to a "not ready" handler (the runtime
 * retries) until the endpoint manager can take them.
 */
final class DeferredCniHandler implements CniHandler {
  private static final String STARTING = "the agent is starting";
  private volatile CniHandler delegate = CniHandler.notReady(STARTING);
  /** Why ADDs are refused; null once the endpoint manager takes them. */
  private volatile String notReadyReason = STARTING;

  synchronized void notReady(String reason) {
    notReadyReason = reason;
    delegate = CniHandler.notReady(reason);
  }

  synchronized void ready(CniHandler handler) {
    delegate = handler;
    notReadyReason = null;
  }

  /** Why every ADD is refused, while it is (for readiness). */
  Optional<String> notReadyReason() {
    return Optional.ofNullable(notReadyReason);
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
