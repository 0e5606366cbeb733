package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/** tc attach is idempotent and never destroys a clsact hook someone else created. */
@KernelTest
class TcAttachmentKernelTest {

  private static BpfProgram program(NetnsLab lab, String name) {
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(obj::close);
    return obj.pinMapsUnder(lab.bpffsDir("tc")).load().program(name);
  }

  @Test
  void attachingTwiceReplacesTheFilterInPlace(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    NetnsLab.Netns pod = lab.netns("pod");
    lab.veth(node, "hveth", pod, "eth0");
    BpfProgram prog = program(lab, "from_container");

    node.call(() -> {
      int ifindex = NetworkNamespace.ifindex("hveth");
      TcAttachment first = TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, prog);
      TcAttachment second = TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, prog);

      assertThat(first.hookCreated()).isTrue();
      assertThat(second.hookCreated()).isFalse();
      assertThat(TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.INGRESS))
          .isPositive();
      return null;
    });
    String filters = node.ip("link", "show", "hveth") + Shellish.tc(node, "filter", "show", "dev",
        "hveth", "ingress");
    assertThat(filters.lines().filter(l -> l.contains("direct-action"))).hasSize(1);
  }

  @Test
  void detachLeavesAForeignClsactHookAndItsFiltersAlone(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    NetnsLab.Netns pod = lab.netns("pod");
    lab.veth(node, "hveth", pod, "eth0");
    Shellish.tc(node, "qdisc", "add", "dev", "hveth", "clsact");
    // A foreign filter, loaded by tc itself (this kernel may lack matchall/u32 classifiers).
    Shellish.tc(node, "filter", "add", "dev", "hveth", "egress", "pref", "7", "bpf", "da", "obj",
        EbpfObjects.path("bpf_lxc.o").toString(), "sec", "tc");
    BpfProgram prog = program(lab, "to_container");

    node.call(() -> {
      int ifindex = NetworkNamespace.ifindex("hveth");
      TcAttachment ours = TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, prog);
      assertThat(ours.hookCreated()).isFalse();
      ours.detach(true);
      assertThat(TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.EGRESS)).isZero();
      return null;
    });

    assertThat(Shellish.tc(node, "qdisc", "show", "dev", "hveth")).contains("clsact");
    assertThat(Shellish.tc(node, "filter", "show", "dev", "hveth", "egress")).contains("pref 7 bpf");
  }

  @Test
  void detachDestroysTheHookItCreatedWhenAsked(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    NetnsLab.Netns pod = lab.netns("pod");
    lab.veth(node, "hveth", pod, "eth0");
    BpfProgram prog = program(lab, "from_container");

    node.call(() -> {
      TcAttachment ours = TcAttachment.attach(NetworkNamespace.ifindex("hveth"),
          TcAttachment.Direction.INGRESS, prog);
      ours.detach(true);
      return null;
    });

    assertThat(Shellish.tc(node, "qdisc", "show", "dev", "hveth")).doesNotContain("clsact");
  }

  /** tc inside a namespace. */
  static final class Shellish {
    static String tc(NetnsLab.Netns ns, String... args) {
      String[] cmd = new String[args.length + 1];
      cmd[0] = "tc";
      System.arraycopy(args, 0, cmd, 1, args.length);
      return ns.run(cmd);
    }
  }
}
