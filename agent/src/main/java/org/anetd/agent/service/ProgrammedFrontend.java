package org.anetd.agent.service;

import org.anetd.agent.datapath.Lb4Service;

/**
 * One frontend view as programmed, for {@code anetd bpf lb list} and status: where it comes from,
 * its address and scope ({@link org.anetd.agent.datapath.Lb4Key#SCOPE_EXTERNAL} or
 * {@code SCOPE_INTERNAL}), the master entry's flags ({@link Lb4Service}{@code .F_*}), the number of
 * backend slots and the rev-NAT id.
 */
public record ProgrammedFrontend(
    FrontendKind kind, FrontendAddress address, int scope, int flags, int backends, int revNatId) {

  public boolean hasFlag(int flag) {
    return (flags & flag) != 0;
  }
}
