package org.anetd.agent.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.LogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies cilium-config's log-format (text | json) and debug to the agent's logging. */
final class LogSetup {
  private LogSetup() {}

  static void apply(AgentConfig config) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return; // another SLF4J backend: leave it to its own configuration
    }
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(config.debug() ? Level.DEBUG : Level.INFO);
    if (config.logFormat() == LogFormat.JSON
        && root.getAppender("STDERR") instanceof ConsoleAppender<ILoggingEvent> console
        && !(console.getEncoder() instanceof JsonEncoder)) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      json.start();
      console.stop();
      console.setEncoder(json);
      console.start();
    }
  }
}
