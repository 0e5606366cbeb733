package org.anetd.agent.endpoint;

/**
 * Serves CNI commands. Failures are {@link CniException}s carrying the CNI error to return;
 * anything else the server reports as {@link CniError#AGENT_FAILURE}.
 */
public interface CniHandler {
  CniResult add(CniRequest request);

  void del(CniRequest request);

  void check(CniRequest request);

  /** Returns when ADD can be served; else throws code 50 or 51 saying why. */
  void status(CniRequest request);

  void gc(CniRequest request);

  /**
   * A handler for an agent that cannot serve pods yet (no pod CIDR, datapath not loaded): ADD
   * and DEL ask the runtime to retry (a DEL answered without cleaning up would leak), STATUS says
   * not ready, GC does nothing.
   */
  static CniHandler notReady(String reason) {
    return new CniHandler() {
      @Override
      public CniResult add(CniRequest request) {
        throw new CniException(CniError.TRY_AGAIN_LATER, "anetd is not ready to add pods", reason);
      }

      @Override
      public void del(CniRequest request) {
        throw new CniException(CniError.TRY_AGAIN_LATER, "anetd is not ready to delete pods",
            reason);
      }

      @Override
      public void check(CniRequest request) {
        throw new CniException(CniError.TRY_AGAIN_LATER, "anetd is not ready", reason);
      }

      @Override
      public void status(CniRequest request) {
        throw new CniException(CniError.NOT_AVAILABLE, "anetd is not ready", reason);
      }

      @Override
      public void gc(CniRequest request) {}
    };
  }
}
