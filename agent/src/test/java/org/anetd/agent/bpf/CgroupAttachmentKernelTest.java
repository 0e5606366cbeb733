package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.Shell;
import org.junit.jupiter.api.Test;

/** A cgroup/connect4 program sees connect() calls of processes in its cgroup, and only those. */
@KernelTest
class CgroupAttachmentKernelTest {

  @Test
  void connect4ProgramCountsConnectsInItsCgroupUntilDetached(NetnsLab lab) {
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("tests/bridge_test.o"));
    lab.onClose(obj::close);
    obj.pinMapsUnder(lab.bpffsDir("cgroup")).load();
    Path cgroup = lab.cgroup("connect");
    BpfMap connects = obj.map("connects");

    CgroupAttachment attachment = CgroupAttachment.attach(cgroup,
        CgroupAttachment.Hook.INET4_CONNECT, obj.program("count_connect4"));
    lab.onClose(attachment::close);
    connectFrom(cgroup);
    connectFrom(cgroup);
    long whileAttached = counter(connects);
    attachment.detach();
    connectFrom(cgroup);

    assertThat(whileAttached).isEqualTo(2);
    assertThat(counter(connects)).isEqualTo(2);
  }

  /** One TCP connect to a closed loopback port from a shell that joined {@code cgroup}. */
  private static void connectFrom(Path cgroup) {
    Shell.exec(List.of("bash", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs")
        + " && (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; true"), 10);
  }

  private static long counter(BpfMap map) {
    byte[] key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0).array();
    return ByteBuffer.wrap(map.lookup(key).orElseThrow()).order(ByteOrder.nativeOrder()).getLong();
  }
}
