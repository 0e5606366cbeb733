package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** bpf_host's SNAT range against node-port-range, and the default choice of host devices. */
class HostSettingsTest {
  @ParameterizedTest(name = "node-port-range {0}-{1} -> SNAT {2}-{3}")
  @CsvSource({"30000,32767,61000,65535", "30000,61500,61501,65535", "50000,65535,45464,49999",
      "62000,63000,63001,65535"})
  void defaultSnatRangeNeverOverlapsNodePortRange(int npMin, int npMax, int min, int max) {
    HostSettings s = HostSettings.forNodePortRange(npMin, npMax);
    assertThat(s.snatPortMin()).isEqualTo(min);
    assertThat(s.snatPortMax()).isEqualTo(max);
  }

  @Test
  void aSnatRangeInsideNodePortRangeIsRejected() {
    assertThatThrownBy(() -> HostSettings.defaults().withSnatPorts(32000, 40000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SNAT port range 32000-40000 overlaps node-port-range 30000-32767");
    assertThatThrownBy(() -> HostSettings.defaults().withSnatPorts(0, 100))
        .hasMessageContaining("invalid SNAT port range");
  }

  @Test
  void hostDevicesAreInterfacesWithAGlobalIpv4AndADefaultRouteNeverLoOrPodVeths()
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    var addrs = json.readTree("""
        [{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","scope":"host"}]},
         {"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.5","scope":"global"}]},
         {"ifname":"eth1","addr_info":[{"family":"inet","local":"10.1.0.5","scope":"global"}]},
         {"ifname":"eth2","addr_info":[{"family":"inet","local":"169.254.0.1","scope":"link"}]},
         {"ifname":"lxc0123456789a","addr_info":[{"family":"inet","local":"10.0.0.9",
           "scope":"global"}]}]""");
    var routes = json.readTree("""
        [{"dst":"default","gateway":"10.0.0.1","dev":"eth0"},
         {"dst":"default","nexthops":[{"gateway":"10.1.0.1","dev":"eth1"},
                                      {"gateway":"169.254.0.2","dev":"eth2"}]},
         {"dst":"default","dev":"lxc0123456789a"}]""");

    assertThat(HostDevices.select(addrs, routes)).containsExactly("eth0", "eth1");
  }

  @Test
  void anInterfaceHoldingANodeAddressIsAHostDeviceWithoutADefaultRoute() throws Exception {
    ObjectMapper json = new ObjectMapper();
    var addrs = json.readTree("""
        [{"ifname":"eth0","addr_info":[{"family":"inet","local":"203.0.113.5","scope":"global"}]},
         {"ifname":"eth1","addr_info":[{"family":"inet","local":"10.1.0.5","scope":"global"}]},
         {"ifname":"eth2","addr_info":[{"family":"inet","local":"10.2.0.5","scope":"global"}]},
         {"ifname":"lxc0123456789a","addr_info":[{"family":"inet","local":"10.2.0.5",
           "scope":"global"}]}]""");
    var routes = json.readTree("""
        [{"dst":"default","gateway":"203.0.113.1","dev":"eth0"}]""");

    assertThat(HostDevices.select(addrs, routes, Set.of(Ipv4.parse("10.1.0.5"))))
        .containsExactly("eth0", "eth1");
    assertThat(HostDevices.select(addrs, routes, Set.of())).containsExactly("eth0");
  }

  @Test
  void theNodesOwnAddressIsThePreferredSourceOfTheDefaultRouteElseItsInterfacesAddress()
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    var addrs = json.readTree("""
        [{"ifname":"eth0","addr_info":[{"family":"inet","local":"169.254.1.1","scope":"link"},
                                       {"family":"inet","local":"10.128.0.7","scope":"global"},
                                       {"family":"inet","local":"10.128.0.8","scope":"global"}]},
         {"ifname":"eth1","addr_info":[{"family":"inet","local":"192.0.2.4","scope":"global"}]}]""");

    assertThat(HostDevices.primaryAddress(addrs, json.readTree("""
        [{"dst":"default","gateway":"10.128.0.1","dev":"eth0"}]""")))
        .contains(Ipv4.parse("10.128.0.7"));
    assertThat(HostDevices.primaryAddress(addrs, json.readTree("""
        [{"dst":"default","gateway":"10.128.0.1","dev":"eth0","prefsrc":"10.128.0.8"}]""")))
        .contains(Ipv4.parse("10.128.0.8"));
    assertThat(HostDevices.primaryAddress(addrs, json.readTree("""
        [{"dst":"default","nexthops":[{"gateway":"192.0.2.1","dev":"eth1"}]}]""")))
        .contains(Ipv4.parse("192.0.2.4"));
    assertThat(HostDevices.primaryAddress(addrs, json.readTree("[]"))).isEmpty();
  }

  @Test
  void podsGetTheMtuOfTheDefaultRouteInterface() throws Exception {
    ObjectMapper json = new ObjectMapper();
    var addrs = json.readTree("""
        [{"ifname":"lo","mtu":65536,"addr_info":[]},
         {"ifname":"ens4","mtu":1460,"addr_info":[]},
         {"ifname":"eth1","mtu":9000,"addr_info":[]}]""");

    assertThat(HostDevices.primaryMtu(addrs, json.readTree("""
        [{"dst":"default","gateway":"10.128.0.1","dev":"ens4"}]"""))).hasValue(1460);
    assertThat(HostDevices.primaryMtu(addrs, json.readTree("""
        [{"dst":"default","nexthops":[{"gateway":"10.1.0.1","dev":"eth1"}]}]"""))).hasValue(9000);
    assertThat(HostDevices.primaryMtu(addrs, json.readTree("[]"))).isEmpty();
  }
}
