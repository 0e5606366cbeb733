package org.anetd.agent.logging;

import static org.anetd.agent.logging.LoggingFixtures.namespace;
import static org.anetd.agent.logging.LoggingFixtures.ownedPod;
import static org.anetd.agent.logging.LoggingFixtures.pod;
import static org.anetd.agent.logging.LoggingFixtures.policy;
import static org.anetd.agent.logging.LoggingFixtures.state;
import static org.anetd.agent.logging.LoggingFixtures.tcpEgress;
import static org.anetd.agent.logging.LoggingFixtures.tcpIngress;
import static org.anetd.agent.logging.LoggingFixtures.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Event;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.logging.LoggingFixtures.FakeTime;
import org.anetd.agent.logging.LoggingSettings.DispositionSettings;
import org.anetd.agent.logging.PolicyActionLogger.Options;
import org.anetd.agent.logging.PolicyActionRecord.Direction;
import org.anetd.agent.logging.PolicyActionRecord.Disposition;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyActionRecord.PodPeer;
import org.anetd.agent.logging.PolicyActionRecord.PolicyRef;
import org.anetd.agent.logging.PolicyLoggingCounters.DropReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyActionLoggerTest {
  static final Instant START = Instant.parse("2026-12-02T04:31:00.123456789Z");
  static final String CLIENT = "10.0.0.1"; // web/client-..., Deployment client
  static final String DB = "10.0.0.5"; // data/db-0, StatefulSet db
  static final String OUTSIDE = "203.0.113.50";
  static final String ALLOW_WEB = "allow-web"; // annotated enable-logging
  static final String ALLOW_PLAIN = "allow-plain";
  static final long SET_ANNOTATED = 1;
  static final long SET_PLAIN = 2;
  static final long SET_BOTH = 3;
  static final long SET_UNKNOWN = 99;
  static final Map<Long, List<ObjectRef>> POLICY_SETS = Map.of(
      0L, List.of(),
      SET_ANNOTATED, List.of(np(ALLOW_WEB)),
      SET_PLAIN, List.of(np(ALLOW_PLAIN)),
      SET_BOTH, List.of(np(ALLOW_PLAIN), np(ALLOW_WEB)));
  // "data" asks for deny logs; "web" does not.
  static final ClusterState STATE = state(
      List.of(ownedPod("web", "client-5d9c7b8f6-x2x4q", CLIENT, "ReplicaSet", "client-5d9c7b8f6",
              Map.of("pod-template-hash", "5d9c7b8f6")),
          ownedPod("data", "db-0", DB, "StatefulSet", "db", Map.of())),
      List.of(namespace("data", Map.of(LoggingSettings.ENABLE_DENY_LOGGING, "true")),
          namespace("web", Map.of(LoggingSettings.ENABLE_DENY_LOGGING, "false"))),
      List.of(policy("data", ALLOW_WEB, Map.of(LoggingSettings.ENABLE_LOGGING, "true")),
          policy("data", ALLOW_PLAIN, Map.of())));
  static final LoggingSettings LOG_ALL = new LoggingSettings(DispositionSettings.ALL,
      DispositionSettings.ALL);
  static final LoggingSettings DELEGATED = new LoggingSettings(DispositionSettings.DELEGATED,
      DispositionSettings.DELEGATED);

  final FakeTime time = new FakeTime(START);
  final List<PolicyActionRecord> written = new ArrayList<>();
  final PolicyLoggingCounters counters = new PolicyLoggingCounters();

  static ObjectRef np(String name) {
    return new ObjectRef("NetworkPolicy", "data", name);
  }

  PolicyActionLogger logger(LoggingSettings settings) {
    return logger(settings, Options.defaults());
  }

  PolicyActionLogger logger(LoggingSettings settings, Options options) {
    LoggingContext ctx = new LoggingContext(STATE, POLICY_SETS, settings);
    return new PolicyActionLogger(() -> ctx, written::add, counters, time, time, options);
  }

  @Test
  void allowIsOneRecordPerConnectionWrittenAtOnce() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, SET_PLAIN));
    time.advance(Duration.ofMillis(10));
    logger.onEvent(tcpIngress(time, CLIENT, 40002, DB, 5432, true, SET_PLAIN));

    // Allows are not aggregated: each connection keeps its own source port and count 1.
    assertThat(written).extracting(r -> r.connection().srcPort()).containsExactly(40001, 40002);
    assertThat(written).allSatisfy(r -> {
      assertThat(r.disposition()).isEqualTo(Disposition.ALLOW);
      assertThat(r.count()).isEqualTo(1);
      assertThat(r.nodeName()).isEqualTo(LoggingFixtures.NODE);
    });
    assertThat(written.get(0).src())
        .isEqualTo(new PodPeer("client-5d9c7b8f6-x2x4q", "web", "Deployment", "client"));
    assertThat(written.get(0).dest()).isEqualTo(new PodPeer("db-0", "data", "StatefulSet", "db"));
    assertThat(written.get(0).policies())
        .containsExactly(new PolicyRef(ALLOW_PLAIN, "data", "NetworkPolicy"));
    assertThat(written.get(1).timestamp()).isEqualTo(START.plusMillis(10));
  }

  @Test
  void allowOfTheNodeLocalPolicySetIsNoPolicyVerdictAndNotLogged() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, "192.168.1.10", 40001, DB, 5432, true, 0));
    assertThat(written).isEmpty();
    assertThat(counters.generated()).isZero();
  }

  @Test
  void allowOfTheNodeLocalPolicySetIsNotLoggedBeforeTheFirstPassEither() {
    LoggingContext beforeFirstPass = new LoggingContext(STATE, Map.of(), LOG_ALL);
    PolicyActionLogger logger = new PolicyActionLogger(() -> beforeFirstPass, written::add,
        counters, time, time, Options.defaults());
    logger.onEvent(tcpIngress(time, "192.168.1.10", 40001, DB, 5432, true, 0));
    assertThat(written).isEmpty();
  }

  @Test
  void allowOfAPolicySetUnknownToTheSnapshotIsLoggedWithoutPolicies() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, SET_UNKNOWN));
    assertThat(written).singleElement().satisfies(r -> assertThat(r.policies()).isEmpty());
  }

  @Test
  void threeSynRetriesWithinTheWindowAreOneDenyRecordWithCountThree() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 5432, false, 0));
    time.advance(Duration.ofSeconds(1));
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 5432, false, 0)); // SYN retry
    time.advance(Duration.ofSeconds(2));
    logger.onEvent(tcpIngress(time, OUTSIDE, 51001, DB, 5432, false, 0)); // a new attempt
    time.advance(Duration.ofMillis(1_999));
    logger.tick();
    assertThat(written).as("the window is still open at 4.999 s").isEmpty();

    time.advance(Duration.ofMillis(1));
    logger.tick();
    assertThat(written).singleElement().satisfies(r -> {
      assertThat(r.disposition()).isEqualTo(Disposition.DENY);
      assertThat(r.count()).isEqualTo(3);
      assertThat(r.connection().srcPort()).isZero();
      assertThat(r.connection().destPort()).isEqualTo(5432);
      assertThat(r.timestamp()).as("first seen").isEqualTo(START);
      assertThat(r.policies()).isEmpty();
      assertThat(r.src()).isEqualTo(new InstancePeer(Ipv4.parse(OUTSIDE)));
    });
    assertThat(logger.openDenyWindows()).isZero();
  }

  @Test
  void denialsInTwoWindowsAreTwoRecords() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 5432, false, 0));
    time.advance(Duration.ofSeconds(1));
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 5432, false, 0));
    time.advance(Duration.ofSeconds(5)); // t=6 s: the first window closed at 5 s
    logger.onEvent(tcpIngress(time, OUTSIDE, 51002, DB, 5432, false, 0));
    assertThat(written).as("the first window closes when the next event comes")
        .extracting(PolicyActionRecord::count).containsExactly(2L);

    time.advance(Duration.ofSeconds(5));
    logger.tick();
    assertThat(written).extracting(PolicyActionRecord::count).containsExactly(2L, 1L);
    assertThat(written).extracting(PolicyActionRecord::timestamp)
        .containsExactly(START, START.plusSeconds(6));
  }

  @Test
  void denialsToDifferentPortsAreSeparateRecords() {
    PolicyActionLogger logger = logger(LOG_ALL);
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 5432, false, 0));
    logger.onEvent(tcpIngress(time, OUTSIDE, 51000, DB, 22, false, 0));
    logger.flush();
    assertThat(written).extracting(r -> r.connection().destPort()).containsExactly(5432, 22);
  }

  @Test
  void icmpPortsAreZeroSoEchoesAggregate() {
    PolicyActionLogger logger = logger(LOG_ALL);
    for (int id = 1; id <= 4; id++) {
      logger.onEvent(verdict(time.getAsLong(), CLIENT, id, OUTSIDE, 8, Protocol.ICMP,
          PolicyKey.DIR_EGRESS, false, 0));
    }
    logger.flush();
    assertThat(written).singleElement().satisfies(r -> {
      assertThat(r.count()).isEqualTo(4);
      assertThat(r.connection().srcPort()).isZero();
      assertThat(r.connection().destPort()).isZero();
      assertThat(r.connection().direction()).isEqualTo(Direction.EGRESS);
    });
  }

  @Test
  void timestampIsWhenTheDatapathSawThePacketNotWhenTheAgentReadIt() {
    PolicyActionLogger logger = logger(LOG_ALL);
    time.advance(Duration.ofSeconds(1));
    long seen = time.getAsLong() - 2_345_678; // 2.345678 ms in the ring buffer
    logger.onEvent(verdict(seen, CLIENT, 40001, DB, 5432, Protocol.TCP, PolicyKey.DIR_INGRESS,
        true, SET_PLAIN));
    assertThat(written.get(0).timestamp())
        .isEqualTo(START.plusSeconds(1).minusNanos(2_345_678));
  }

  @Test
  void settingLogFalseLogsNothingOfThatDisposition() {
    PolicyActionLogger denyOnly = logger(new LoggingSettings(DispositionSettings.OFF,
        DispositionSettings.ALL));
    denyOnly.onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, SET_ANNOTATED));
    denyOnly.onEvent(tcpIngress(time, OUTSIDE, 40001, DB, 5432, false, 0));
    denyOnly.flush();
    assertThat(written).extracting(PolicyActionRecord::disposition)
        .containsExactly(Disposition.DENY);

    written.clear();
    PolicyActionLogger off = logger(LoggingSettings.DISABLED);
    off.onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, SET_ANNOTATED));
    off.onEvent(tcpIngress(time, OUTSIDE, 40001, DB, 5432, false, 0));
    off.flush();
    assertThat(written).isEmpty();
  }

  static Stream<Arguments> delegatedAllows() {
    return Stream.of(
        Arguments.of("allowed by an annotated policy", SET_ANNOTATED, List.of(ALLOW_WEB)),
        Arguments.of("allowed by a policy without the annotation", SET_PLAIN, null),
        Arguments.of("allowed by both: logged, listing every allowing policy", SET_BOTH,
            List.of(ALLOW_PLAIN, ALLOW_WEB)),
        Arguments.of("allowed by policies the snapshot cannot name", SET_UNKNOWN, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("delegatedAllows")
  void delegatedAllowIsLoggedOnlyWhenAnAllowingPolicyIsAnnotated(String name, long policySet,
      List<String> listed) {
    logger(DELEGATED).onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, policySet));
    if (listed == null) {
      assertThat(written).isEmpty();
    } else {
      assertThat(written).singleElement().satisfies(r -> assertThat(r.policies())
          .extracting(PolicyRef::name).containsExactlyElementsOf(listed));
    }
  }

  static Stream<Arguments> delegatedDenies() {
    return Stream.of(
        Arguments.of("ingress to a pod of an annotated namespace", OUTSIDE, DB,
            PolicyKey.DIR_INGRESS, true),
        Arguments.of("ingress to a pod of a namespace without it", OUTSIDE, CLIENT,
            PolicyKey.DIR_INGRESS, false),
        Arguments.of("egress from a pod of an annotated namespace", DB, OUTSIDE,
            PolicyKey.DIR_EGRESS, true),
        Arguments.of("egress from an unannotated namespace to an annotated one: the source decides",
            CLIENT, DB, PolicyKey.DIR_EGRESS, false),
        Arguments.of("ingress to an address no pod owns", CLIENT, "10.9.9.9",
            PolicyKey.DIR_INGRESS, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("delegatedDenies")
  void delegatedDenyIsLoggedOnlyForTheDeniedPodsAnnotatedNamespace(String name, String src,
      String dst, int direction, boolean logged) {
    PolicyActionLogger logger = logger(DELEGATED);
    logger.onEvent(verdict(time.getAsLong(), src, 40001, dst, 80, Protocol.TCP, direction, false,
        0));
    logger.flush();
    assertThat(written).hasSize(logged ? 1 : 0);
  }

  @Test
  void floodOfDistinctDeniedConnectionsIsRateLimitedAndEveryRecordAccountedFor(
      @TempDir Path dir) throws Exception {
    int limit = 500;
    PolicyLoggingCounters c = counters;
    RotatingLogWriter writer = new RotatingLogWriter(RotatingLogWriter.Options.defaults()
        .withFile(dir.resolve("policy_action.log")), c);
    LoggingContext ctx = new LoggingContext(STATE, POLICY_SETS, LOG_ALL);
    // The writer's queue (16384) holds the whole flood: only the rate limit drops here.
    PolicyActionLogger logger = new PolicyActionLogger(() -> ctx, writer, c, time, time,
        Options.defaults().withRecordsPerSecond(limit));

    // 10,000 denied connections from distinct sources, 2,000 a second for 5 s.
    for (int i = 0; i < 10_000; i++) {
      String src = "198.51." + (i / 250) + "." + (i % 250);
      logger.onEvent(tcpIngress(time, src, 40_000 + i % 1000, DB, 5432, false, 0));
      time.advance(Duration.ofNanos(500_000));
      if (i % 200 == 0) {
        logger.tick();
      }
    }
    assertThat(counters.generated()).as("no window closed before 5 s").isZero();
    Duration firstEmission = time.elapsed(); // 5 s: the first window closes now
    while (logger.openDenyWindows() > 0) {
      logger.tick();
      time.advance(Duration.ofMillis(100));
    }
    double elapsedSeconds = time.elapsed().toNanos() / 1e9;
    double emittingSeconds = time.elapsed().minus(firstEmission).toNanos() / 1e9;
    writer.writeQueued();

    assertThat(c.generated()).isEqualTo(10_000);
    assertThat(c.written() + c.dropped()).isEqualTo(c.generated());
    assertThat(c.written()).isLessThanOrEqualTo((long) (limit * elapsedSeconds) + limit);
    // Tighter: the bucket saves at most one second (500) while idle, then refills at 500/s.
    assertThat(c.written()).isLessThanOrEqualTo((long) (limit * emittingSeconds) + limit)
        .isGreaterThanOrEqualTo((long) (limit * (emittingSeconds - 0.2)));
    assertThat(c.dropped(DropReason.RATE_LIMIT)).isEqualTo(c.dropped());
    assertThat(c.dropped(DropReason.QUEUE_FULL)).isZero();
    try (Stream<String> lines = Files.lines(dir.resolve("policy_action.log"))) {
      assertThat(lines.count()).isEqualTo(c.written());
    }
  }

  @Test
  void recordsTheSinkRefusesAreCountedQueueFull() {
    LoggingContext ctx = new LoggingContext(STATE, POLICY_SETS, LOG_ALL);
    PolicyActionLogger logger = new PolicyActionLogger(() -> ctx, r -> false, counters, time,
        time, Options.defaults());
    logger.onEvent(tcpIngress(time, CLIENT, 40001, DB, 5432, true, SET_PLAIN));
    logger.onEvent(tcpIngress(time, CLIENT, 40002, DB, 5432, true, SET_PLAIN));
    assertThat(counters.generated()).isEqualTo(2);
    assertThat(counters.dropped(DropReason.QUEUE_FULL)).isEqualTo(2);
    assertThat(counters.written()).isZero();
  }

  @Test
  void fullWindowTableClosesTheOldestWindowEarlyInsteadOfLosingIt() {
    PolicyActionLogger logger = logger(LOG_ALL, new Options(Duration.ofSeconds(5), 500, 500, 2));
    logger.onEvent(tcpIngress(time, "198.51.100.1", 1, DB, 80, false, 0));
    logger.onEvent(tcpIngress(time, "198.51.100.1", 2, DB, 80, false, 0));
    logger.onEvent(tcpIngress(time, "198.51.100.2", 1, DB, 80, false, 0));
    logger.onEvent(tcpIngress(time, "198.51.100.3", 1, DB, 80, false, 0));
    assertThat(written).singleElement().satisfies(r -> {
      assertThat(r.connection().srcIp()).isEqualTo(Ipv4.parse("198.51.100.1"));
      assertThat(r.count()).isEqualTo(2);
    });
    assertThat(logger.openDenyWindows()).isEqualTo(2);
  }

  @Test
  void eventsOtherThanVerdictsAreIgnoredAndUnknownDirectionsCounted() {
    PolicyActionLogger logger = logger(LOG_ALL);
    Event drop = new Event(time.getAsLong(), Ipv4.parse(CLIENT), Ipv4.parse(DB), 1, 80,
        Event.TYPE_DROP, Protocol.TCP, PolicyKey.DIR_INGRESS, false, 7, 256, 0, 3);
    logger.onEvent(drop);
    logger.onEvent(verdict(time.getAsLong(), CLIENT, 1, DB, 80, Protocol.TCP, 7, true,
        SET_PLAIN));
    logger.flush();
    assertThat(written).isEmpty();
    assertThat(counters.unreadableEvents()).isEqualTo(1);
  }
}
