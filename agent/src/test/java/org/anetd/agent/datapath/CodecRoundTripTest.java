package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Codecs decode what they encode, and put network-order fields in wire order. */
class CodecRoundTripTest {
  private static final Ipv4 A = Ipv4.parse("198.18.1.2");
  private static final Ipv4 B = Ipv4.parse("198.19.3.4");

  @SuppressWarnings({"rawtypes", "unchecked"})
  static Stream<Arguments> samples() {
    return Stream.of(
        Arguments.of(MetricsKeyCodec.INSTANCE, new MetricsKey(2, 1)),
        Arguments.of(MetricsValueCodec.INSTANCE, new MetricsValue(1L << 40, 99)),
        Arguments.of(Lb4KeyCodec.INSTANCE, new Lb4Key(A, 8080, Protocol.UDP, 1, 3)),
        Arguments.of(Lb4ServiceCodec.INSTANCE, Lb4Service.master(4, 65535, 0x21, 10800)),
        Arguments.of(Lb4BackendCodec.INSTANCE, new Lb4Backend(B, 65535, Protocol.TCP, 1)),
        Arguments.of(Lb4ReverseNatCodec.INSTANCE, new Lb4ReverseNat(A, 443)),
        Arguments.of(Lb4AffinityKeyCodec.INSTANCE, new Lb4AffinityKey(B, 7)),
        Arguments.of(Lb4AffinityValueCodec.INSTANCE, new Lb4AffinityValue(123456789L, 4000000000L)),
        Arguments.of(Ct4KeyCodec.INSTANCE, new Ct4Key(A, B, 80, 40000, Protocol.TCP, 3)),
        Arguments.of(Ct4EntryCodec.INSTANCE,
            new Ct4Entry(1L << 50, 10, 1000, 42, B, 8080, 9, 0x21, 3)),
        Arguments.of(Snat4EntryCodec.INSTANCE, new Snat4Entry(987654321L, A, 61000)),
        Arguments.of(Ipcache4KeyCodec.INSTANCE, new Ipcache4Key(24, Ipv4.parse("198.18.5.0"))),
        Arguments.of(Ipcache4ValueCodec.INSTANCE, new Ipcache4Value(300, A, 12)),
        Arguments.of(PolicyKeyCodec.INSTANCE,
            PolicyKey.portPrefix(5, 300, 1, Protocol.UDP, 0x0400, 6)),
        Arguments.of(PolicyEntryCodec.INSTANCE, new PolicyEntry(77, 1, true)),
        Arguments.of(EndpointPolicyCodec.INSTANCE, new EndpointPolicy(300, 3)),
        Arguments.of(EventCodec.INSTANCE, new Event(5, A, B, 1234, 80, 1, Protocol.TCP, 0, true,
            5, 300, 77, 0)),
        Arguments.of(Lxc4InfoCodec.INSTANCE,
            new Lxc4Info(70000, 65535, "0A:1b:2c:3d:4e:5f", "fe:ee:dd:cc:bb:aa")),
        Arguments.of(Ipv4KeyCodec.INSTANCE, A));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("samples")
  <T> void decodeReturnsWhatWasEncoded(Codec<T> codec, T value) {
    byte[] bytes = codec.encode(value);

    assertThat(bytes).hasSize(codec.size());
    assertThat(codec.decode(bytes)).isEqualTo(value);
  }

  @Test
  void lb4KeyAddressAndPortAreInNetworkOrder() {
    byte[] bytes = Lb4KeyCodec.INSTANCE.encode(new Lb4Key(A, 0x1f90, Protocol.TCP, 0, 0));

    assertThat(HexFormat.of().formatHex(bytes, 0, 6)).isEqualTo("c61201021f90");
  }

  @Test
  void lxcInfoMacsAreInWireOrderAndKeyIsNetworkOrder() {
    byte[] info = Lxc4InfoCodec.INSTANCE.encode(
        new Lxc4Info(3, 1, "0a:1b:2c:3d:4e:5f", "fe:ee:dd:cc:bb:aa"));

    assertThat(HexFormat.of().formatHex(info, 6, 18)).isEqualTo("0a1b2c3d4e5ffeeeddccbbaa");
    assertThat(HexFormat.of().formatHex(Ipv4KeyCodec.INSTANCE.encode(A))).isEqualTo("c6120102");
  }

  @Test
  void policyKeyPortPrefixClearsBitsBelowThePrefix() {
    PolicyKey k = PolicyKey.portPrefix(1, 0, 0, Protocol.TCP, 81, 15);

    assertThat(k.port()).isEqualTo(80);
    assertThat(k.prefixLength()).isEqualTo(PolicyKey.PREFIX_BASE + 8 + 15);
  }

  @Test
  void ipcacheKeyDropsHostBits() {
    assertThat(new Ipcache4Key(16, Ipv4.parse("198.18.7.7")).address())
        .isEqualTo(Ipv4.parse("198.18.0.0"));
  }
}
