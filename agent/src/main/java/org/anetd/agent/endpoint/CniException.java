package org.anetd.agent.endpoint;

/** Ends a CNI request with a {@link CniError} result. */
public final class CniException extends RuntimeException {
  private final CniError error;

  public CniException(int code, String msg, String details) {
    this(new CniError(code, msg, details), null);
  }

  public CniException(int code, String msg, String details, Throwable cause) {
    this(new CniError(code, msg, details), cause);
  }

  private CniException(CniError error, Throwable cause) {
    super(error.msg() + (error.details() == null ? "" : ": " + error.details()), cause);
    this.error = error;
  }

  public CniError error() {
    return error;
  }
}
