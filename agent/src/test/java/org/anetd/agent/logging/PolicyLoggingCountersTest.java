package org.anetd.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.anetd.agent.logging.PolicyLoggingCounters.DropReason;
import org.junit.jupiter.api.Test;

class PolicyLoggingCountersTest {
  @Test
  void dropsAreExportedByReasonAtScrapeTime() throws IOException {
    PolicyLoggingCounters c = new PolicyLoggingCounters();
    PrometheusRegistry registry = new PrometheusRegistry();
    c.register(registry);
    for (int i = 0; i < 6; i++) {
      c.recordGenerated();
    }
    c.recordWritten(2);
    c.recordDropped(DropReason.RATE_LIMIT, 3);
    c.recordDropped(DropReason.WRITE_ERROR, 1);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("policy_logging_drop_count_total{reason=\"rate_limit\"} 3.0")
        .contains("policy_logging_drop_count_total{reason=\"queue_full\"} 0.0")
        .contains("policy_logging_drop_count_total{reason=\"write_error\"} 1.0")
        .contains("anetd_policy_logging_records_generated_total 6.0")
        .contains("anetd_policy_logging_records_written_total 2.0");
    assertThat(c.written() + c.dropped()).isEqualTo(c.generated());
  }
}
