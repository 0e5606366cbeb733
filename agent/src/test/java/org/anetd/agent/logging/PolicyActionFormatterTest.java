package org.anetd.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.logging.PolicyActionRecord.Connection;
import org.anetd.agent.logging.PolicyActionRecord.Direction;
import org.anetd.agent.logging.PolicyActionRecord.Disposition;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyActionRecord.Peer;
import org.anetd.agent.logging.PolicyActionRecord.PodPeer;
import org.anetd.agent.logging.PolicyActionRecord.PolicyRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Verdict record -> the exact policy action log line. */
class PolicyActionFormatterTest {
  static final Instant T = Instant.parse("2026-12-02T04:31:00.123456789Z");
  static final PodPeer CLIENT = new PodPeer("client-7d4b9c-x2x4q", "web", "Deployment", "client");
  static final PodPeer SERVER = new PodPeer("db-0", "data", "StatefulSet", "db");

  static Connection conn(String src, int sport, String dst, int dport, Protocol p, Direction d) {
    return new Connection(Ipv4.parse(src), Ipv4.parse(dst), sport, dport, p, d);
  }

  static PolicyActionRecord record(Connection c, Disposition disp, List<PolicyRef> policies,
      Peer src, Peer dest, long count, Instant t) {
    return new PolicyActionRecord(c, disp, policies, src, dest, count, "node-1", t);
  }

  static Stream<Arguments> verdicts() {
    return Stream.of(
        Arguments.of("allow pod to pod, ingress",
            record(conn("10.4.0.7", 43012, "10.4.1.9", 5432, Protocol.TCP, Direction.INGRESS),
                Disposition.ALLOW, List.of(new PolicyRef("allow-web", "data", "NetworkPolicy"),
                    new PolicyRef("allow-monitoring", "data", "NetworkPolicy")),
                CLIENT, SERVER, 1, T),
            "{\"connection\":{\"src_ip\":\"10.4.0.7\",\"dest_ip\":\"10.4.1.9\",\"src_port\":43012,"
                + "\"dest_port\":5432,\"protocol\":\"tcp\",\"direction\":\"ingress\"},"
                + "\"disposition\":\"allow\","
                + "\"policies\":[{\"name\":\"allow-web\",\"namespace\":\"data\",\"kind\":\"NetworkPolicy\"},"
                + "{\"name\":\"allow-monitoring\",\"namespace\":\"data\",\"kind\":\"NetworkPolicy\"}],"
                + "\"src\":{\"pod_name\":\"client-7d4b9c-x2x4q\",\"pod_namespace\":\"web\","
                + "\"namespace\":\"web\",\"workload_kind\":\"Deployment\",\"workload_name\":\"client\"},"
                + "\"dest\":{\"pod_name\":\"db-0\",\"pod_namespace\":\"data\",\"namespace\":\"data\","
                + "\"workload_kind\":\"StatefulSet\",\"workload_name\":\"db\"},"
                + "\"count\":1,\"node_name\":\"node-1\","
                + "\"timestamp\":\"2026-12-02T04:31:00.123456789Z\"}"),
        Arguments.of("deny from an outside address: no policies field, source port 0, count",
            record(conn("203.0.113.50", 0, "10.4.1.9", 5432, Protocol.TCP, Direction.INGRESS),
                Disposition.DENY, List.of(), new InstancePeer(Ipv4.parse("203.0.113.50")),
                SERVER, 3, T),
            "{\"connection\":{\"src_ip\":\"203.0.113.50\",\"dest_ip\":\"10.4.1.9\",\"src_port\":0,"
                + "\"dest_port\":5432,\"protocol\":\"tcp\",\"direction\":\"ingress\"},"
                + "\"disposition\":\"deny\","
                + "\"src\":{\"instance\":\"203.0.113.50\"},"
                + "\"dest\":{\"pod_name\":\"db-0\",\"pod_namespace\":\"data\",\"namespace\":\"data\","
                + "\"workload_kind\":\"StatefulSet\",\"workload_name\":\"db\"},"
                + "\"count\":3,\"node_name\":\"node-1\","
                + "\"timestamp\":\"2026-12-02T04:31:00.123456789Z\"}"),
        Arguments.of("allow egress to the world from a bare pod, udp",
            record(conn("10.4.0.8", 53000, "8.8.8.8", 53, Protocol.UDP, Direction.EGRESS),
                Disposition.ALLOW, List.of(new PolicyRef("allow-dns", "tools", "NetworkPolicy")),
                new PodPeer("debug", "tools", "", ""), new InstancePeer(Ipv4.parse("8.8.8.8")),
                1, T),
            "{\"connection\":{\"src_ip\":\"10.4.0.8\",\"dest_ip\":\"8.8.8.8\",\"src_port\":53000,"
                + "\"dest_port\":53,\"protocol\":\"udp\",\"direction\":\"egress\"},"
                + "\"disposition\":\"allow\","
                + "\"policies\":[{\"name\":\"allow-dns\",\"namespace\":\"tools\",\"kind\":\"NetworkPolicy\"}],"
                + "\"src\":{\"pod_name\":\"debug\",\"pod_namespace\":\"tools\",\"namespace\":\"tools\","
                + "\"workload_kind\":\"\",\"workload_name\":\"\"},"
                + "\"dest\":{\"instance\":\"8.8.8.8\"},"
                + "\"count\":1,\"node_name\":\"node-1\","
                + "\"timestamp\":\"2026-12-02T04:31:00.123456789Z\"}"),
        Arguments.of("icmp deny, egress, sctp-free lowercase protocol",
            record(conn("10.4.0.7", 0, "10.4.2.2", 0, Protocol.ICMP, Direction.EGRESS),
                Disposition.DENY, List.of(), CLIENT, new InstancePeer(Ipv4.parse("10.4.2.2")), 12,
                T),
            "{\"connection\":{\"src_ip\":\"10.4.0.7\",\"dest_ip\":\"10.4.2.2\",\"src_port\":0,"
                + "\"dest_port\":0,\"protocol\":\"icmp\",\"direction\":\"egress\"},"
                + "\"disposition\":\"deny\","
                + "\"src\":{\"pod_name\":\"client-7d4b9c-x2x4q\",\"pod_namespace\":\"web\","
                + "\"namespace\":\"web\",\"workload_kind\":\"Deployment\",\"workload_name\":\"client\"},"
                + "\"dest\":{\"instance\":\"10.4.2.2\"},"
                + "\"count\":12,\"node_name\":\"node-1\","
                + "\"timestamp\":\"2026-12-02T04:31:00.123456789Z\"}"),
        Arguments.of("sctp allow with an unnamed policy set (empty policies array kept)",
            record(conn("10.4.0.7", 40000, "10.4.1.9", 9899, Protocol.SCTP, Direction.INGRESS),
                Disposition.ALLOW, List.of(), CLIENT, SERVER, 1, T),
            "{\"connection\":{\"src_ip\":\"10.4.0.7\",\"dest_ip\":\"10.4.1.9\",\"src_port\":40000,"
                + "\"dest_port\":9899,\"protocol\":\"sctp\",\"direction\":\"ingress\"},"
                + "\"disposition\":\"allow\",\"policies\":[],"
                + "\"src\":{\"pod_name\":\"client-7d4b9c-x2x4q\",\"pod_namespace\":\"web\","
                + "\"namespace\":\"web\",\"workload_kind\":\"Deployment\",\"workload_name\":\"client\"},"
                + "\"dest\":{\"pod_name\":\"db-0\",\"pod_namespace\":\"data\",\"namespace\":\"data\","
                + "\"workload_kind\":\"StatefulSet\",\"workload_name\":\"db\"},"
                + "\"count\":1,\"node_name\":\"node-1\","
                + "\"timestamp\":\"2026-12-02T04:31:00.123456789Z\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("verdicts")
  void verdictFormatsAsExactLine(String name, PolicyActionRecord record, String line) {
    assertThat(PolicyActionFormatter.format(record)).isEqualTo(line);
  }

  static Stream<Arguments> timestamps() {
    return Stream.of(
        Arguments.of("2026-12-02T04:31:00.123456789Z", "2026-12-02T04:31:00.123456789Z"),
        Arguments.of("2026-12-02T04:31:00.000000001Z", "2026-12-02T04:31:00.000000001Z"),
        Arguments.of("2026-12-02T04:31:00Z", "2026-12-02T04:31:00.000000000Z"),
        Arguments.of("2026-12-02T05:31:00.5+01:00", "2026-12-02T04:31:00.500000000Z"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("timestamps")
  void timestampIsUtcWithNineFractionalDigits(String instant, String expected) {
    assertThat(PolicyActionFormatter.timestamp(
        java.time.OffsetDateTime.parse(instant).toInstant())).isEqualTo(expected);
  }

  @Test
  void everyLineIsOneJsonObjectWithFieldsInLogOrder() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (Arguments a : verdicts().toList()) {
      String line = PolicyActionFormatter.format((PolicyActionRecord) a.get()[1]);
      assertThat(line).doesNotContain("\n");
      List<String> fields = new ArrayList<>();
      json.readTree(line).fieldNames().forEachRemaining(fields::add);
      assertThat(fields).containsSubsequence("connection", "disposition", "src", "dest", "count",
          "node_name", "timestamp");
    }
  }

  @Test
  void denyRecordCannotNamePolicies() {
    assertThatThrownBy(() -> record(
        conn("10.4.0.7", 0, "10.4.1.9", 80, Protocol.TCP, Direction.INGRESS), Disposition.DENY,
        List.of(new PolicyRef("p", "ns", "NetworkPolicy")), CLIENT, SERVER, 1, T))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no policies");
  }
}
