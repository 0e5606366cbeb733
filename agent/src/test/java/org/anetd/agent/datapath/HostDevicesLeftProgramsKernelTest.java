package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.bpf.TcAttachment.Direction;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/**
 * {@link HostDevices#removeLeftPrograms}: an agent started without kube-proxy-replacement takes
 * off the from_netdev / to_netdev filters an earlier agent left on the node's interfaces, and
 * nothing else; with kube-proxy-replacement, it takes off only those on interfaces it does not
 * serve ({@link HostDevices#removeLeftPrograms(Set)}).
 *
 * <pre>
 *  netns node                                   netns world
 *    up0 (from_netdev, to_netdev: the earlier agent's) ==veth== eth0
 *    up1                                                ==veth== eth1
 *    lxc0123 (a pod's host veth)                        ==veth== eth2
 * </pre>
 */
@KernelTest
class HostDevicesLeftProgramsKernelTest {
  /** A handle and priority of another tool's filters. */
  private static final int FOREIGN_HANDLE = 7;
  private static final int FOREIGN_PRIORITY = 7;

  private NetnsLab.Netns node;
  private BpfObject host;
  private BpfObject lxc;

  /** The node namespace and its interfaces; up0 carries the programs an earlier agent left. */
  private void earlierAgentLeftNodePrograms(NetnsLab lab) {
    node = lab.netns("node");
    NetnsLab.Netns world = lab.netns("world");
    lab.veth(node, "up0", world, "eth0");
    lab.veth(node, "up1", world, "eth1");
    lab.veth(node, "lxc0123", world, "eth2");
    var pins = lab.bpffsDir("left");
    host = BpfObject.openFile(EbpfObjects.path("bpf_host.o"));
    lab.onClose(host::close);
    host.pinMapsUnder(pins).load();
    lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    lxc.pinMapsUnder(pins).load();
    // the earlier agent stopped without detaching (what agents do): nothing closes this one
    new HostDevices(node.path()).attach(List.of("up0"), nodePrograms());
    assertThat(attachedProgramName("up0", Direction.INGRESS)).isEqualTo("from_netdev");
    assertThat(attachedProgramName("up0", Direction.EGRESS)).isEqualTo("to_netdev");
  }

  private HostDevices.NodePrograms nodePrograms() {
    return new HostDevices.NodePrograms(host.program("from_netdev"), host.program("to_netdev"));
  }

  /** The agent of this run: a new HostDevices on the node's namespace. */
  private HostDevices.Removal removeLeftPrograms() {
    return new HostDevices(node.path()).removeLeftPrograms();
  }

  private void attach(String ifname, Direction direction, BpfProgram program, int handle,
      int priority) {
    node.call(() -> TcAttachment.attach(NetworkNamespace.ifindex(ifname), direction, program,
        handle, priority));
  }

  /** {@code ingress} and {@code egress} on {@code ifname} at anetd's handle and priority. */
  private void attachAtAnetdsHandle(String ifname, BpfProgram ingress, BpfProgram egress) {
    attach(ifname, Direction.INGRESS, ingress, TcAttachment.DEFAULT_HANDLE,
        TcAttachment.DEFAULT_PRIORITY);
    attach(ifname, Direction.EGRESS, egress, TcAttachment.DEFAULT_HANDLE,
        TcAttachment.DEFAULT_PRIORITY);
  }

  /** The name of the program at anetd's handle and priority, "" when none. */
  private String attachedProgramName(String ifname, Direction direction) {
    return node.call(() -> TcAttachment.attachedProgram(NetworkNamespace.ifindex(ifname),
        direction).map(org.anetd.agent.bpf.ProgramInfo::name).orElse(""));
  }

  private String tc(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "tc";
    System.arraycopy(args, 0, command, 1, args.length);
    return node.run(command);
  }

  private void assertNodeProgramsGoneFromUp0(HostDevices.Removal removal) {
    assertThat(removal.failed()).isEmpty();
    assertThat(removal.removed()).containsExactly("up0");
    assertThat(attachedProgramName("up0", Direction.INGRESS)).isEmpty();
    assertThat(attachedProgramName("up0", Direction.EGRESS)).isEmpty();
  }

  @Test
  void removesFromNetdevAndToNetdevAnEarlierAgentLeftAndKeepsTheClsactHook(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);

    assertNodeProgramsGoneFromUp0(removeLeftPrograms());
    assertThat(tc("filter", "show", "dev", "up0", "ingress")).isBlank();
    assertThat(tc("filter", "show", "dev", "up0", "egress")).isBlank();
    assertThat(tc("qdisc", "show", "dev", "up0")).as("the hook stays: we cannot know who made it")
        .contains("clsact");
    assertThat(removeLeftPrograms().removed()).as("a second run finds nothing").isEmpty();
  }

  @Test
  void removesTheFiltersOfInterfacesNotKeptAndLeavesThoseOfTheKeptOnes(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);
    // this run serves up1 (the default route moved there from up0)
    HostDevices thisRun = new HostDevices(node.path());
    thisRun.attach(List.of("up1"), nodePrograms());

    assertNodeProgramsGoneFromUp0(thisRun.removeLeftPrograms(Set.copyOf(thisRun.attached())));
    assertThat(attachedProgramName("up1", Direction.INGRESS)).isEqualTo("from_netdev");
    assertThat(attachedProgramName("up1", Direction.EGRESS)).isEqualTo("to_netdev");
  }

  @Test
  void keepsForeignFiltersOnOtherPrioritiesOfTheSameInterface(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);
    // another tool's programs beside ours, one of them even bpf_host's to_netdev
    attach("up0", Direction.INGRESS, lxc.program("from_container"), FOREIGN_HANDLE,
        FOREIGN_PRIORITY);
    attach("up0", Direction.EGRESS, host.program("to_netdev"), FOREIGN_HANDLE, FOREIGN_PRIORITY);

    assertNodeProgramsGoneFromUp0(removeLeftPrograms());
    String ingress = tc("filter", "show", "dev", "up0", "ingress");
    assertThat(ingress).contains("pref 7 bpf").contains("from_container")
        .doesNotContain("pref 1 ");
    String egress = tc("filter", "show", "dev", "up0", "egress");
    assertThat(egress).contains("pref 7 bpf").contains("to_netdev").doesNotContain("pref 1 ");
  }

  @Test
  void keepsAnotherProgramAtAnetdsHandleAndPriority(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);
    attachAtAnetdsHandle("up1", lxc.program("from_container"), lxc.program("to_container"));

    assertNodeProgramsGoneFromUp0(removeLeftPrograms());
    assertThat(attachedProgramName("up1", Direction.INGRESS)).isEqualTo("from_container");
    assertThat(attachedProgramName("up1", Direction.EGRESS)).isEqualTo("to_container");
  }

  @Test
  void keepsTheFiltersOfPodVeths(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);
    // even bpf_host's programs: a pod veth is never the node programs' to remove
    attachAtAnetdsHandle("lxc0123", host.program("from_netdev"), host.program("to_netdev"));

    assertNodeProgramsGoneFromUp0(removeLeftPrograms());
    assertThat(attachedProgramName("lxc0123", Direction.INGRESS)).isEqualTo("from_netdev");
    assertThat(attachedProgramName("lxc0123", Direction.EGRESS)).isEqualTo("to_netdev");
  }

  @Test
  void addsNoHookToInterfacesWithoutOne(NetnsLab lab) {
    earlierAgentLeftNodePrograms(lab);

    assertNodeProgramsGoneFromUp0(removeLeftPrograms());
    assertThat(tc("qdisc", "show", "dev", "up1")).doesNotContain("clsact");
    assertThat(tc("qdisc", "show", "dev", "lo")).doesNotContain("clsact");
  }
}
