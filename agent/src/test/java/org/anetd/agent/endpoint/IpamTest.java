package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.anetd.agent.datapath.Ipv4;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpamTest {
  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final PodRef POD = new PodRef("default", "web");

  @TempDir
  Path dir;

  private static AttachmentKey key(String id) {
    return new AttachmentKey(id, "eth0");
  }

  private static Allocation allocation(String ip, String id) {
    return new Allocation(Ipv4.parse(ip), key(id), POD, NOW);
  }

  @ParameterizedTest(name = "{0}: {1} pod addresses, first {2}, last {3}")
  @CsvSource({
      "10.4.1.0/24, 253, 10.4.1.2, 10.4.1.254",
      "10.4.0.0/16, 65533, 10.4.0.2, 10.4.255.254",
      "198.18.0.0/30, 1, 198.18.0.2, 198.18.0.2",
      "198.18.0.8/29, 5, 198.18.0.10, 198.18.0.14",
  })
  void podCidrReservesNetworkGatewayAndBroadcast(String cidr, int pool, String first,
      String last) {
    PodCidr c = PodCidr.parse(cidr);
    assertThat(c.poolSize()).isEqualTo(pool);
    assertThat(c.firstPodAddress()).hasToString(first);
    assertThat(c.lastPodAddress()).hasToString(last);
    assertThat(c.isPodAddress(c.network())).isFalse();
    assertThat(c.isPodAddress(c.gatewayReserved())).isFalse();
    assertThat(c.isPodAddress(c.broadcast())).isFalse();
  }

  @ParameterizedTest(name = "\"{0}\" is rejected naming {1}")
  @CsvSource(delimiter = '|', value = {
      "10.4.1.0           | not of the form",
      "10.4.1.0/31        | too small",
      "10.4.1.0/x         | no numeric prefix",
      "10.4.1.300/24      | not an IPv4 address",
      "10.4.1.7/24        | did you mean 10.4.1.0/24",
  })
  void podCidrRejectsBadInputWithAClearMessage(String text, String message) {
    assertThatThrownBy(() -> PodCidr.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void allocatesTheLowestFreeAddressAfterTheReservedOnes() {
    PodCidr cidr = PodCidr.parse("10.4.1.0/24");
    Ipam.Outcome first = Ipam.allocate(cidr, List.of(), key("a"), POD, NOW);
    Ipam.Outcome hole = Ipam.allocate(cidr,
        List.of(allocation("10.4.1.2", "x"), allocation("10.4.1.4", "y")), key("a"), POD, NOW);

    assertThat(((Ipam.Allocated) first).allocation().address()).hasToString("10.4.1.2");
    assertThat(((Ipam.Allocated) hole).allocation().address()).hasToString("10.4.1.3");
  }

  @Test
  void allocationGoesRoundTheRangeFromTheLastAddressHandedOut() {
    PodCidr cidr = PodCidr.parse("198.18.0.8/29"); // .10 .. .14
    List<Allocation> held = List.of(allocation("198.18.0.11", "x"), allocation("198.18.0.13", "y"));

    Ipam.Outcome afterEleven = Ipam.allocate(cidr, held, key("a"), POD, NOW,
        Optional.of(Ipv4.parse("198.18.0.11")));
    Ipam.Outcome afterLast = Ipam.allocate(cidr, held, key("a"), POD, NOW,
        Optional.of(Ipv4.parse("198.18.0.14")));
    Ipam.Outcome fromOutside = Ipam.allocate(cidr, held, key("a"), POD, NOW,
        Optional.of(Ipv4.parse("10.9.9.9"))); // the pod CIDR changed

    assertThat(((Ipam.Allocated) afterEleven).allocation().address()).hasToString("198.18.0.12");
    assertThat(((Ipam.Allocated) afterLast).allocation().address()).hasToString("198.18.0.10");
    assertThat(((Ipam.Allocated) fromOutside).allocation().address()).hasToString("198.18.0.10");
  }

  @Test
  void aFreedAddressIsNotHandedOutAgainWhileOthersAreFreeAlsoAfterARestart() {
    PodCidr cidr = PodCidr.parse("198.18.0.8/29");
    IpamStore store = new IpamStore(dir, cidr, CLOCK);
    store.allocate(key("a"), POD); // .10
    Ipv4 freed = store.allocate(key("b"), POD).address(); // .11
    store.release(key("b"));

    Ipv4 next = new IpamStore(dir, cidr, CLOCK).allocate(key("c"), POD).address();

    assertThat(freed).hasToString("198.18.0.11");
    assertThat(next).hasToString("198.18.0.12");
  }

  @Test
  void anAttachmentThatHasAnAddressGetsItAgain() {
    PodCidr cidr = PodCidr.parse("10.4.1.0/24");
    Ipam.Outcome again = Ipam.allocate(cidr, List.of(allocation("10.4.1.9", "a")), key("a"),
        POD, NOW);

    assertThat(again).isEqualTo(new Ipam.Reused(allocation("10.4.1.9", "a")));
  }

  @Test
  void exhaustionNamesThePoolItsSizeAndHowManyAreUsed() {
    PodCidr cidr = PodCidr.parse("198.18.0.8/29");
    List<Allocation> full = List.of(allocation("198.18.0.10", "a"), allocation("198.18.0.11", "b"),
        allocation("198.18.0.12", "c"), allocation("198.18.0.13", "d"),
        allocation("198.18.0.14", "e"));

    Ipam.Outcome outcome = Ipam.allocate(cidr, full, key("f"), POD, NOW);

    assertThat(outcome).isInstanceOf(Ipam.Exhausted.class);
    assertThat(((Ipam.Exhausted) outcome).message())
        .contains("198.18.0.8/29").contains("5 of 5 pod addresses");
  }

  @Test
  void storeHandsOutDistinctAddressesAndRepeatsThemForARetriedAdd() {
    IpamStore store = new IpamStore(dir, PodCidr.parse("10.4.1.0/24"), CLOCK);

    Allocation a = store.allocate(key("a"), POD);
    Allocation b = store.allocate(key("b"), POD);
    Allocation aAgain = store.allocate(key("a"), new PodRef("other", "ignored"));

    assertThat(a.address()).hasToString("10.4.1.2");
    assertThat(b.address()).hasToString("10.4.1.3");
    assertThat(aAgain).isEqualTo(a);
  }

  @Test
  void releaseIsIdempotentAndTheFreedAddressComesBackWhenTheRangeWrapsRound() {
    IpamStore store = new IpamStore(dir, PodCidr.parse("198.18.0.8/29"), CLOCK); // .10 .. .14
    store.allocate(key("a"), POD);
    store.allocate(key("b"), POD);

    assertThat(store.release(key("a"))).isPresent();
    assertThat(store.release(key("a"))).isEmpty();
    assertThat(store.release(key("never"))).isEmpty();
    assertThat(List.of("c", "d", "e", "f")).extracting(k -> store.allocate(key(k), POD).address()
        .toString()).containsExactly("198.18.0.12", "198.18.0.13", "198.18.0.14", "198.18.0.10");
  }

  @Test
  void storeExhaustionThrowsWithThePoolInTheMessage() {
    IpamStore store = new IpamStore(dir, PodCidr.parse("198.18.0.0/30"), CLOCK);
    store.allocate(key("a"), POD);

    assertThatThrownBy(() -> store.allocate(key("b"), POD))
        .isInstanceOf(PoolExhaustedException.class)
        .hasMessageContaining("198.18.0.0/30 is exhausted: 1 of 1");
  }

  @Test
  void allocationsSurviveAReopenWithPodAndTime() {
    IpamStore store = new IpamStore(dir, PodCidr.parse("10.4.1.0/24"), CLOCK);
    Allocation a = store.allocate(key("a"), POD);
    Allocation b = store.allocate(new AttachmentKey("b", "net9"), new PodRef("kube-system", "dns"));

    IpamStore reopened = new IpamStore(dir, PodCidr.parse("10.4.1.0/24"), CLOCK);

    assertThat(reopened.allocations()).containsExactly(a, b);
    assertThat(Files.exists(dir.resolve(".allocations.json.tmp"))).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "truncated write     | {\"formatVersion\":1,\"allocations\":[{\"address\":\"10.4.1.2\"",
      "not JSON            | \u0000\u0000\u0000",
      "no allocations      | {\"formatVersion\":1}",
      "bad address         | {\"formatVersion\":1,\"allocations\":[{\"address\":\"10.4.1.999\",\"containerId\":\"a\",\"ifname\":\"eth0\",\"allocatedAt\":\"2025-01-01T00:00:00Z\"}]}",
      "duplicate address   | {\"formatVersion\":1,\"allocations\":[{\"address\":\"10.4.1.2\",\"containerId\":\"a\",\"ifname\":\"eth0\",\"allocatedAt\":\"2025-01-01T00:00:00Z\"},{\"address\":\"10.4.1.2\",\"containerId\":\"b\",\"ifname\":\"eth0\",\"allocatedAt\":\"2025-01-01T00:00:00Z\"}]}",
      "unknown format      | {\"formatVersion\":7,\"allocations\":[]}",
  })
  void aCorruptedStoreFailsClearlyAndIsNeverReset(String label, String content)
      throws IOException {
    Path file = dir.resolve(IpamStore.FILE);
    Files.writeString(file, content, StandardCharsets.UTF_8);
    IpamStore store = new IpamStore(dir, PodCidr.parse("10.4.1.0/24"), CLOCK);

    assertThatThrownBy(() -> store.allocate(key("a"), POD))
        .isInstanceOf(StateCorruptedException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("left as it is");
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo(content);
  }
}
