package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ConntrackPurgerTest {
  private static final Ipv4 CLIENT = Ipv4.parse("198.18.0.5");
  private static final Ipv4 VIP = Ipv4.parse("198.19.0.10");
  private static final Ipv4 GONE = Ipv4.parse("198.18.0.2");
  private static final Ipv4 LIVE = Ipv4.parse("198.18.0.3");

  private final InMemoryMapBackend ct = new InMemoryMapBackend("ct4_any", 1024);

  private void connection(Ipv4 backend, long backendId, int sport, Protocol proto) {
    Ct4Entry forward = new Ct4Entry(0, 0, 0, backendId, backend, 53, 1, 0, 0);
    Ct4Entry reply = new Ct4Entry(0, 0, 0, backendId, CLIENT, sport, 1, 0, 0);
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(VIP, CLIENT, 53, sport, proto,
        Ct4Key.F_SERVICE)), Ct4EntryCodec.INSTANCE.encode(forward));
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(CLIENT, backend, sport, 53, proto,
        Ct4Key.F_REPLY)), Ct4EntryCodec.INSTANCE.encode(reply));
  }

  @Test
  void bothDirectionsOfAConnectionToARemovedBackendAreDeleted() {
    connection(GONE, 1, 40000, Protocol.UDP);

    assertThat(ConntrackPurger.purge(ct, Set.of(1L))).isEqualTo(2);
    assertThat(ct.size()).isZero();
  }

  @Test
  void connectionsToLiveBackendsStay() {
    connection(GONE, 1, 40000, Protocol.UDP);
    connection(LIVE, 2, 40001, Protocol.TCP);

    ConntrackPurger.purge(ct, Set.of(1L));

    assertThat(ct.size()).isEqualTo(2);
  }

  @Test
  void connectionsOfARemovedReverseNatIdAreDeletedWhateverTheirBackend() {
    connection(LIVE, 2, 40000, Protocol.UDP); // rev-NAT id 1

    assertThat(ConntrackPurger.purge(ct, Set.of(), Set.of(7))).isZero();
    assertThat(ConntrackPurger.purge(ct, Set.of(), Set.of(1))).isEqualTo(2);
  }

  @Test
  void nothingRemovedMeansNothingScanned() {
    connection(GONE, 1, 40000, Protocol.UDP);

    assertThat(ConntrackPurger.purge(ct, Set.of())).isZero();
    assertThat(ct.size()).isEqualTo(2);
  }

  @Test
  void entriesWithAnAddressOnEitherSideAreDeletedWhenItsPodIsGone() {
    connection(GONE, 1, 40000, Protocol.UDP); // GONE as a backend: reply entry's source
    entry(40001, Long.MAX_VALUE); // LIVE -> CLIENT
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(LIVE, GONE, 80, 40002, Protocol.TCP,
        Ct4Key.F_POL_TX)), Ct4EntryCodec.INSTANCE.encode(
            new Ct4Entry(Long.MAX_VALUE, 1, 60, 0, new Ipv4(0), 0, 0, Ct4Entry.F_POLICY_ALLOWED, 0)));

    assertThat(ConntrackPurger.purgeAddresses(ct, Set.of(GONE))).as("GONE as a backend: both entries of the"
        + " service connection (the forward one translates to it); LIVE -> GONE").isEqualTo(3);
    assertThat(ct.size()).as("LIVE -> CLIENT").isEqualTo(1);
  }

  private void entry(int sport, long expiresNs) {
    ct.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(LIVE, CLIENT, 80, sport, Protocol.TCP,
        Ct4Key.F_POL_TX)), Ct4EntryCodec.INSTANCE.encode(
            new Ct4Entry(expiresNs, 1, 60, 0, new Ipv4(0), 0, 0, Ct4Entry.F_POLICY_ALLOWED, 0)));
  }

  @Test
  void entriesWhoseLifetimeEndedAreDeletedLiveOnesStay() {
    long now = 1_000_000_000_000L;
    entry(40000, now - 1);
    entry(40001, now);
    entry(40002, now + 1);
    entry(40003, now + 60_000_000_000L);

    assertThat(ConntrackPurger.purgeExpired(ct, now)).isEqualTo(2);
    assertThat(ct.size()).isEqualTo(2);
    assertThat(ConntrackPurger.purgeExpired(ct, now)).as("a second pass finds nothing").isZero();
  }

  @Test
  void anEntryRevivedBetweenTheReadAndTheDeleteStays() {
    long now = 1_000_000_000_000L;
    entry(40000, now - 1);
    entry(40001, now - 1);
    // a new connection takes over the tuple of 40000 while the purger works through its read
    ct.afterRead(() -> entry(40000, now + 60_000_000_000L));

    assertThat(ConntrackPurger.purgeExpired(ct, now)).isEqualTo(1);
    assertThat(ct.size()).isEqualTo(1);
    ct.afterRead(() -> {});
    assertThat(ConntrackPurger.purgeExpired(ct, now)).as("the revived entry is live").isZero();
  }

  @Test
  void expiredSnatEntriesAreDeletedLiveAndRevivedOnesStay() {
    InMemoryMapBackend snat = new InMemoryMapBackend(Datapath.SNAT4, 1024);
    long now = 1_000_000_000_000L;
    Ipv4 node = Ipv4.parse("198.18.255.1");
    // one connection = out {backend, client} -> node:snat port, in {node, backend} -> client
    java.util.function.BiConsumer<Integer, Long> connection = (snatPort, expires) -> {
      int cport = snatPort - 20000;
      snat.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(LIVE, CLIENT, 8080, cport, Protocol.TCP,
          0)), Snat4EntryCodec.INSTANCE.encode(new Snat4Entry(expires, node, snatPort)));
      snat.putRaw(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(node, LIVE, snatPort, 8080,
          Protocol.TCP, Ct4Key.F_REPLY)), Snat4EntryCodec.INSTANCE.encode(
              new Snat4Entry(expires, CLIENT, cport)));
    };
    connection.accept(61000, now - 1);
    connection.accept(61001, now);
    connection.accept(61002, now + 60_000_000_000L);
    connection.accept(61003, now - 1);
    assertThat(ConntrackPurger.purgeExpired(snat, now)).as("conntrack values: not this table")
        .isZero();

    // a new connection takes over the expired ports of 61003 while the purger reads the table
    snat.afterRead(() -> connection.accept(61003, now + 60_000_000_000L));
    assertThat(ConntrackPurger.purgeExpiredSnat(snat, now)).isEqualTo(4);
    assertThat(snat.size()).as("61002 and the revived 61003, two entries each").isEqualTo(4);
    snat.afterRead(() -> {});
    assertThat(ConntrackPurger.purgeExpiredSnat(snat, now)).as("a second pass finds nothing")
        .isZero();
  }
}
