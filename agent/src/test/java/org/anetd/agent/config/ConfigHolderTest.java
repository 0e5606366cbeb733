package org.anetd.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigHolderTest {
  private static final ConfigOrigin SRC = ConfigOrigin.configMap(ConfigOrigin.CILIUM_CONFIG);
  private static final Instant NOW = Instant.parse("2025-01-02T03:04:05Z");

  private final ConfigHolder holder =
      new ConfigHolder(AgentConfig.defaults(), Clock.fixed(NOW, ZoneOffset.UTC));

  private static ConfigResult load(Map<String, String> data) {
    return ConfigParser.parse(data, SRC);
  }

  @Test
  void startsFromDefaults() {
    assertThat(new ConfigHolder().current()).isEqualTo(AgentConfig.defaults());
    assertThat(new ConfigHolder().lastRejection()).isEmpty();
  }

  @Test
  void acceptedConfigReplacesTheOneInForce() {
    ConfigHolder.ApplyOutcome outcome = holder.apply(load(Map.of("bpf-lb-map-max", "300000")));
    assertThat(outcome.status()).isEqualTo(ConfigHolder.Status.CHANGED);
    assertThat(holder.current().bpfLbMapMax()).isEqualTo(300000);
    assertThat(holder.acceptedTotal()).isEqualTo(1);
  }

  @Test
  void rejectedConfigKeepsTheLastGoodOneAndIsRecorded() {
    holder.apply(load(Map.of("bpf-lb-map-max", "300000", "debug", "true")));
    AgentConfig good = holder.current();

    ConfigHolder.ApplyOutcome outcome =
        holder.apply(load(Map.of("bpf-lb-map-max", "abc", "debug", "false")));

    assertThat(outcome.status()).isEqualTo(ConfigHolder.Status.REJECTED);
    // Not the defaults, and not the valid half of the bad load either: the last good config.
    assertThat(holder.current()).isSameAs(good);
    assertThat(holder.current().debug()).isTrue();
    assertThat(holder.lastRejection()).hasValueSatisfying(r -> {
      assertThat(r.at()).isEqualTo(NOW);
      assertThat(r.source()).isEqualTo(SRC);
      assertThat(r.errors()).extracting(ConfigError::toString).containsExactly(
          "bpf-lb-map-max: \"abc\" is not an integer (allowed: 1..16777216)");
    });
    assertThat(holder.rejectedTotal()).isEqualTo(1);
  }

  @Test
  void everyRejectedLoadIsHandedToTheRejectionListenersAndNoAcceptedOne() {
    List<ConfigRejection> heard = new ArrayList<>();
    holder.addRejectionListener(heard::add);

    holder.apply(load(Map.of("bpf-lb-map-max", "abc")));
    holder.apply(load(Map.of("debug", "true")));
    holder.apply(load(Map.of("node-port-range", "x")));

    assertThat(heard).hasSize(2).allSatisfy(r -> assertThat(r.at()).isEqualTo(NOW));
    assertThat(heard).flatExtracting(ConfigRejection::errors).extracting(ConfigError::key)
        .containsExactly("bpf-lb-map-max", "node-port-range");
  }

  @Test
  void rejectionIsClearedWhenAGoodConfigArrives() {
    holder.apply(load(Map.of("debug", "maybe")));
    assertThat(holder.lastRejection()).isPresent();
    holder.apply(load(Map.of("debug", "true")));
    assertThat(holder.lastRejection()).isEmpty();
    assertThat(holder.rejectedTotal()).isEqualTo(1);
  }

  @Test
  void listenersHearEachChangeOnceAndNotUnchangedOrRejectedLoads() {
    List<AgentConfig> heard = new ArrayList<>();
    holder.addListener(heard::add);

    holder.apply(load(Map.of("debug", "true")));
    holder.apply(load(Map.of("debug", "true")));          // same again
    holder.apply(load(Map.of("debug", "nope")));          // rejected
    holder.apply(load(Map.of("debug", "false")));

    assertThat(heard).extracting(AgentConfig::debug).containsExactly(true, false);
  }

  @Test
  void aFailingListenerDoesNotStopTheOthers() {
    List<AgentConfig> heard = new ArrayList<>();
    holder.addListener(c -> {
      throw new IllegalStateException("boom");
    });
    holder.addListener(heard::add);
    holder.apply(load(Map.of("debug", "true")));
    assertThat(heard).hasSize(1);
    assertThat(holder.current().debug()).isTrue();
  }

  @Test
  void unknownKeyIsReportedOnceAcrossReloads() {
    Map<String, String> data = Map.of("bpf-lb-map-mx", "1", "cluster-name", "c1");
    ConfigHolder.ApplyOutcome first = holder.apply(load(data));
    ConfigHolder.ApplyOutcome second = holder.apply(load(data));
    ConfigHolder.ApplyOutcome withDebug =
        holder.apply(load(Map.of("bpf-lb-map-mx", "1", "cluster-name", "c1", "debug", "true")));

    assertThat(first.noticesFirstSeen()).extracting(ConfigNotice::key)
        .containsExactly("bpf-lb-map-mx", "cluster-name");
    assertThat(second.noticesFirstSeen()).isEmpty();
    assertThat(withDebug.noticesFirstSeen()).isEmpty();
  }

  @Test
  void noticesOfARejectedLoadAreReportedToo() {
    ConfigHolder.ApplyOutcome outcome =
        holder.apply(load(Map.of("typo-key", "1", "debug", "nope")));
    assertThat(outcome.status()).isEqualTo(ConfigHolder.Status.REJECTED);
    assertThat(outcome.noticesFirstSeen()).extracting(ConfigNotice::key)
        .containsExactly("typo-key");
  }
}
