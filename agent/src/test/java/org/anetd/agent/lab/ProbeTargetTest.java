package org.anetd.agent.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ProbeTargetTest {
  @Test
  void everyFormParses() {
    assertThat(ProbeTarget.parse("198.19.0.2:80"))
        .isEqualTo(new ProbeTarget.WithPort(new ProbeTarget.Address("198.19.0.2"), 80));
    assertThat(ProbeTarget.parse("web.shop.svc:8080"))
        .isEqualTo(new ProbeTarget.WithPort(new ProbeTarget.ServiceName("shop", "web"), 8080));
    assertThat(ProbeTarget.parse("web.shop.svc.cluster.local:80").target())
        .isEqualTo(new ProbeTarget.ServiceName("shop", "web"));
    assertThat(ProbeTarget.parse("shop/web-abc-x2b4z:53"))
        .isEqualTo(new ProbeTarget.WithPort(new ProbeTarget.PodName("shop", "web-abc-x2b4z"), 53));
    assertThat(ProbeTarget.parse("node:30080"))
        .isEqualTo(new ProbeTarget.WithPort(new ProbeTarget.Node(), 30080));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "web.shop.svc|is not TARGET:PORT",
      "web.shop.svc:|is not TARGET:PORT",
      ":80|is not TARGET:PORT",
      "web.shop.svc:http|is not a number",
      "web.shop.svc:0|is not in 1..65535",
      "web.shop.svc:65536|is not in 1..65535",
      "web.shop:80|is not an IPv4 address, NAME.NAMESPACE.svc, NAMESPACE/POD or node",
      "300.1.1.1:80|is not an IPv4 address",
      "a/b/c:80|is not NAMESPACE/POD",
      "/pod:80|is not NAMESPACE/POD",
      "Web.shop.svc:80|is not an IPv4 address"})
  void badTargetsNameTheProblem(String text, String message) {
    assertThatThrownBy(() -> ProbeTarget.parse(text))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hostname", "clientip", "hello"})
  void echoServerAnswers(String request) {
    String expected = switch (request) {
      case "hostname" -> "web-1";
      case "clientip" -> "198.18.1.2";
      default -> "hello";
    };
    assertThat(EchoServer.answer(request + "\n", "web-1", "198.18.1.2")).isEqualTo(expected);
  }
}
