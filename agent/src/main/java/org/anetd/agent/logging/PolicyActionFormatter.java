package org.anetd.agent.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.anetd.agent.logging.PolicyActionRecord.Connection;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyActionRecord.Peer;
import org.anetd.agent.logging.PolicyActionRecord.PodPeer;
import org.anetd.agent.logging.PolicyActionRecord.PolicyRef;

/**
 * Formats a {@link PolicyActionRecord} as one line of GKE Dataplane V2's policy action log (see
 * docs/policy-action-log-format.md). Pure: same record, same line. Field order is fixed, so lines
 * diff and grep predictably; the line has no trailing newline.
 */
public final class PolicyActionFormatter {
  /** RFC 3339, UTC, always nine fractional digits (a fixed width sorts as text). */
  static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);
  private static final JsonFactory JSON = new JsonFactory();

  private PolicyActionFormatter() {}

  public static String format(PolicyActionRecord r) {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      connection(g, r.connection());
      g.writeStringField("disposition", r.disposition().json());
      if (r.disposition() == PolicyActionRecord.Disposition.ALLOW) {
        g.writeArrayFieldStart("policies");
        for (PolicyRef p : r.policies()) {
          g.writeStartObject();
          g.writeStringField("name", p.name());
          g.writeStringField("namespace", p.namespace());
          g.writeStringField("kind", p.kind());
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      peer(g, "src", r.src());
      peer(g, "dest", r.dest());
      g.writeNumberField("count", r.count());
      g.writeStringField("node_name", r.nodeName());
      g.writeStringField("timestamp", timestamp(r.timestamp()));
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: writing JSON to a string", e);
    }
    return out.toString();
  }

  public static String timestamp(Instant t) {
    return TIMESTAMP.format(t);
  }

  private static void connection(JsonGenerator g, Connection c) throws IOException {
    g.writeObjectFieldStart("connection");
    g.writeStringField("src_ip", c.srcIp().toString());
    g.writeStringField("dest_ip", c.destIp().toString());
    g.writeNumberField("src_port", c.srcPort());
    g.writeNumberField("dest_port", c.destPort());
    g.writeStringField("protocol", c.protocol().name().toLowerCase(Locale.ROOT));
    g.writeStringField("direction", c.direction().json());
    g.writeEndObject();
  }

  private static void peer(JsonGenerator g, String field, Peer peer) throws IOException {
    g.writeObjectFieldStart(field);
    if (peer instanceof PodPeer p) {
      g.writeStringField("pod_name", p.podName());
      g.writeStringField("pod_namespace", p.podNamespace());
      // GKE writes the namespace twice (pod_namespace and namespace); parsers use either.
      g.writeStringField("namespace", p.podNamespace());
      g.writeStringField("workload_kind", p.workloadKind());
      g.writeStringField("workload_name", p.workloadName());
    } else if (peer instanceof InstancePeer i) {
      g.writeStringField("instance", i.ip().toString());
    }
    g.writeEndObject();
  }
}
