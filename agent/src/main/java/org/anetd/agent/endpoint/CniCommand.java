package org.anetd.agent.endpoint;

/** CNI_COMMAND values: spec 1.0 plus STATUS and GC from 1.1. */
public enum CniCommand {
  ADD, DEL, CHECK, STATUS, GC, VERSION
}
