package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.MetricsKey;
import org.anetd.agent.datapath.MetricsKeyCodec;
import org.anetd.agent.datapath.MetricsValue;
import org.anetd.agent.datapath.MetricsValueCodec;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;

/**
 * Real packets through the pod programs on a veth between two namespaces.
 *
 * <pre>
 *   netns pod                      netns node
 *   eth0 198.18.0.2/24 ==veth== hveth 198.18.0.1/24
 *                              tc ingress: from_container (counts EGRESS)
 *                              tc egress:  to_container   (counts INGRESS)
 * </pre>
 */
@KernelTest
class VethTrafficKernelTest {

  @Test
  void pingThroughTheVethIsCountedPerDirectionInTheMetricsMap(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    NetnsLab.Netns pod = lab.netns("pod");
    lab.veth(node, "hveth", pod, "eth0");
    node.ip("addr", "add", "198.18.0.1/24", "dev", "hveth");
    pod.ip("addr", "add", "198.18.0.2/24", "dev", "eth0");
    BpfObject lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    lxc.pinMapsUnder(lab.bpffsDir("veth")).load();
    node.call(() -> {
      int ifindex = NetworkNamespace.ifindex("hveth");
      TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, lxc.program("from_container"));
      TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, lxc.program("to_container"));
      return null;
    });

    String ping = pod.run("ping", "-c", "5", "-i", "0.05", "-W", "1", "198.18.0.1");

    assertThat(ping).contains("5 received");
    BpfMap metrics = lxc.map("anetd_metrics");
    MetricsValue fromPod = read(metrics, MetricsKey.DIR_EGRESS);
    MetricsValue toPod = read(metrics, MetricsKey.DIR_INGRESS);
    // 5 echo requests (+ ARP) left the pod; 5 echo replies (+ ARP) reached it.
    assertThat(fromPod.packets()).isGreaterThanOrEqualTo(5);
    assertThat(toPod.packets()).isGreaterThanOrEqualTo(5);
    assertThat(fromPod.bytes()).isGreaterThanOrEqualTo(5L * 98);
    assertThat(Datapath.counters(metrics)).as("what anetd_datapath_packets_total exports")
        .containsEntry(new MetricsKey(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_EGRESS), fromPod)
        .containsEntry(new MetricsKey(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_INGRESS), toPod)
        .doesNotContainKey(new MetricsKey(MetricsKey.REASON_POLICY_DENIED,
            MetricsKey.DIR_INGRESS));
  }

  private static MetricsValue read(BpfMap metrics, int direction) {
    byte[] key = MetricsKeyCodec.INSTANCE.encode(
        new MetricsKey(MetricsKey.REASON_FORWARDED, direction));
    return MetricsValueCodec.INSTANCE.sumPerCpu(metrics.lookup(key).orElseThrow());
  }
}
