package org.anetd.agent.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import org.anetd.agent.config.AgentConfig;
import org.anetd.agent.config.LogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies cilium-config's log-format (text | json) and debug to the agent's logging. */
final class LogSetup {
  /** The console's own (text) encoder, kept while JSON replaces it, to go back to. */
  private static Encoder<ILoggingEvent> textEncoder;

  private LogSetup() {}

  static void apply(AgentConfig config) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return; // another SLF4J backend: leave it to its own configuration
    }
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(config.debug() ? Level.DEBUG : Level.INFO);
    if (!(root.getAppender("STDERR") instanceof ConsoleAppender<ILoggingEvent> console)) {
      return;
    }
    synchronized (LogSetup.class) {
      boolean json = console.getEncoder() instanceof JsonEncoder;
      if (config.logFormat() == LogFormat.JSON && !json) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.start();
        textEncoder = console.getEncoder();
        swap(console, encoder);
      } else if (config.logFormat() == LogFormat.TEXT && json && textEncoder != null) {
        swap(console, textEncoder);
      }
    }
  }

  private static void swap(ConsoleAppender<ILoggingEvent> console, Encoder<ILoggingEvent> to) {
    console.stop();
    console.setEncoder(to);
    console.start();
  }
}
