package org.anetd.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Map;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.ConfigOrigin;
import org.anetd.agent.config.ConfigParser;
import org.anetd.agent.config.ConfigResult;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** cilium-config's log-format and debug, applied to the agent's console log while it runs. */
class LogSetupTest {
  private static AgentConfig config(Map<String, String> data) {
    ConfigResult r = ConfigParser.parse(data, ConfigOrigin.configMap("/etc/cilium-config"));
    return ((ConfigResult.Accepted) r).config();
  }

  @Test
  void logFormatSwitchesToJsonAndBackToText() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern("%msg%n");
    text.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("STDERR");
    console.setTarget("System.err");
    console.setEncoder(text);
    console.start();
    root.addAppender(console);
    try {
      LogSetup.apply(config(Map.of("log-format", "json")));
      assertThat(console.getEncoder()).isInstanceOf(JsonEncoder.class);

      LogSetup.apply(config(Map.of("log-format", "text")));
      assertThat(console.getEncoder()).isSameAs(text);
      assertThat(console.isStarted()).isTrue();
    } finally {
      root.detachAppender(console);
      console.stop();
      root.setLevel(level);
    }
  }
}
