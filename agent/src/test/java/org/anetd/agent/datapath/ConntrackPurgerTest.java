package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConntrackPurgerTest {
  private static final Ipv4 CLIENT = Ipv4.parse("198.18.0.5");
  private static final Ipv4 VIP = Ipv4.parse("198.19.0.10");
  private static final Lb4Backend GONE = new Lb4Backend(Ipv4.parse("198.18.0.2"), 53, Protocol.UDP, 0);
  private static final Lb4Backend LIVE = new Lb4Backend(Ipv4.parse("198.18.0.3"), 53, Protocol.UDP, 0);
  private static final Map<Long, Lb4Backend> REMOVED = Map.of(1L, GONE);

  private static Ct4Entry toBackend(long id) {
    return new Ct4Entry(0, 0, 0, id, VIP, 53, 1, 0, 0);
  }

  private final InMemoryMapBackend ct = new InMemoryMapBackend("ct4_any", 1024);

  private void put(Ct4Key k, Ct4Entry e) {
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(k), Ct4EntryCodec.INSTANCE.encode(e));
  }

  @Test
  void udpFlowsToARemovedBackendAreDeletedInBothDirections() {
    put(new Ct4Key(VIP, CLIENT, 53, 40000, Protocol.UDP, Ct4Key.F_SERVICE), toBackend(1));
    put(new Ct4Key(CLIENT, GONE.address(), 40000, 53, Protocol.UDP, Ct4Key.F_REPLY), toBackend(0));

    int purged = ConntrackPurger.purge(ct, REMOVED);

    assertThat(purged).isEqualTo(2);
    assertThat(ct.size()).isZero();
  }

  @Test
  void flowsToLiveBackendsStay() {
    put(new Ct4Key(VIP, CLIENT, 53, 40001, Protocol.UDP, Ct4Key.F_SERVICE), toBackend(2));
    put(new Ct4Key(CLIENT, LIVE.address(), 40001, 53, Protocol.UDP, Ct4Key.F_REPLY), toBackend(0));

    assertThat(ConntrackPurger.purge(ct, REMOVED)).isZero();
    assertThat(ct.size()).isEqualTo(2);
  }

  @Test
  void tcpConnectionsAreNeverPurged() {
    Ct4Key tcp = new Ct4Key(VIP, CLIENT, 53, 40002, Protocol.TCP, Ct4Key.F_SERVICE);

    assertThat(ConntrackPurger.pointsAtRemoved(tcp, toBackend(1), REMOVED)).isFalse();
  }

  @Test
  void nothingRemovedMeansNoScan() {
    put(new Ct4Key(VIP, CLIENT, 53, 40003, Protocol.UDP, Ct4Key.F_SERVICE), toBackend(1));

    assertThat(ConntrackPurger.purge(ct, Map.of())).isZero();
  }
}
