package org.anetd.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.ConfigOrigin;
import org.anetd.agent.config.ConfigParser;
import org.anetd.agent.config.ConfigResult;
import org.anetd.agent.datapath.DatapathSettings;
import org.anetd.agent.datapath.HostSettings;
import org.anetd.agent.service.ServiceCompilerConfig;
import org.junit.jupiter.api.Test;

/** What the service compiler is told, from cilium-config and the maps as loaded. */
class AgentServiceConfigTest {
  private static AgentConfig config(Map<String, String> data) {
    ConfigResult r = ConfigParser.parse(data, ConfigOrigin.configMap("/etc/cilium-config"));
    return ((ConfigResult.Accepted) r).config();
  }

  private static DatapathSettings loadedWith(int lbMapMax) {
    return new DatapathSettings(Path.of("/sys/fs/bpf/anetd"), lbMapMax, 524288, 262144, 16384);
  }

  @Test
  void aLargerMapLimitSetAtRunTimeIsNotAdmittedBeforeTheMapsAreResized() {
    ServiceCompilerConfig c = Agent.serviceConfig(config(Map.of("bpf-lb-map-max", "300000")),
        loadedWith(65536));

    assertThat(c.lbMapMax()).isEqualTo(65536);
  }

  @Test
  void theNodePortRangeAppliesAtOnce() {
    ServiceCompilerConfig c = Agent.serviceConfig(config(Map.of("node-port-range", "20000-20999")),
        loadedWith(65536));

    assertThat(c.nodePortRange()).isEqualTo(new ServiceCompilerConfig.NodePortRange(20000, 20999));
  }

  @Test
  void aNodePortRangeReachingIntoTheLoadedSnatPortsWaitsForTheRestart() {
    HostSettings loaded = HostSettings.forNodePortRange(30000, 32767); // SNAT 61000-65535
    ServiceCompilerConfig.NodePortRange atStart = new ServiceCompilerConfig.NodePortRange(30000,
        32767);

    ServiceCompilerConfig wider = Agent.serviceConfig(
        config(Map.of("node-port-range", "30000-40000")), loadedWith(65536), loaded, atStart);
    ServiceCompilerConfig intoSnat = Agent.serviceConfig(
        config(Map.of("node-port-range", "30000-62000")), loadedWith(65536), loaded,
        wider.nodePortRange());

    assertThat(wider.nodePortRange())
        .isEqualTo(new ServiceCompilerConfig.NodePortRange(30000, 40000));
    assertThat(intoSnat.nodePortRange()).as("the range in force stays, not the one at start")
        .isEqualTo(new ServiceCompilerConfig.NodePortRange(30000, 40000));
  }

  @Test
  void restartOnlyKeysThatChangedAreListedWithTheValueInForce() {
    AgentConfig started = config(Map.of("bpf-lb-map-max", "65536"));
    AgentConfig now = config(Map.of("bpf-lb-map-max", "131072", "policy-audit-mode", "true",
        "node-port-range", "31000-32000"));

    assertThat(Agent.pendingRestart(started, now)).containsExactly(
        "bpf-lb-map-max 131072 (in force: 65536)", "policy-audit-mode true (in force: false)");
    assertThat(Agent.pendingRestart(started, started)).isEmpty();
  }
}
