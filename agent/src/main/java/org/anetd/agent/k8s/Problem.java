package org.anetd.agent.k8s;

/** A problem with one object: it is skipped (or partly applied) and reported, never fatal. */
public record Problem(ObjectRef object, Reason reason, String message) {
  @Override
  public String toString() {
    return object + ": " + reason + ": " + message;
  }
}
