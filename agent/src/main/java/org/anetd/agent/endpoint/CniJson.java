package org.anetd.agent.endpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The JSON of the plugin socket: requests from cni/anetd-cni in, CNI results and errors out.
 * Pure mapping, no I/O.
 *
 * <p>Request: {"command", "containerId", "netns", "ifname", "args", "path", "stdinData"} where
 * stdinData is the network configuration as the runtime wrote it. Reply frame: the plugin's exit
 * code on the first line, then what it prints (see {@link #frame}).
 */
public final class CniJson {
  static final ObjectMapper JSON = new ObjectMapper();
  public static final String VALID_ATTACHMENTS = "cni.dev/valid-attachments";
  /** What earlier texts of spec 1.1 called {@link #VALID_ATTACHMENTS}; libcni sends both. */
  static final String ATTACHMENTS = "cni.dev/attachments";

  private CniJson() {}

  /** Decodes a request; a malformed one is CNI error 6 (decode) or 7 (invalid config). */
  public static CniRequest parseRequest(byte[] request) {
    JsonNode r;
    try {
      r = JSON.readTree(request);
    } catch (IOException e) {
      throw new CniException(CniError.DECODE_FAILURE, "cannot decode the plugin request",
          e.getMessage());
    }
    if (r == null || !r.isObject()) {
      throw new CniException(CniError.DECODE_FAILURE, "cannot decode the plugin request",
          "not a JSON object");
    }
    String commandText = r.path("command").asText("");
    CniCommand command;
    try {
      command = CniCommand.valueOf(commandText);
    } catch (IllegalArgumentException e) {
      throw new CniException(CniError.INVALID_ENVIRONMENT,
          "CNI_COMMAND \"" + commandText + "\" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION",
          null);
    }
    JsonNode config;
    try {
      config = JSON.readTree(r.path("stdinData").asText(""));
    } catch (IOException e) {
      throw new CniException(CniError.DECODE_FAILURE,
          "cannot decode the network configuration", e.getMessage());
    }
    if (config == null || !config.isObject()) {
      throw new CniException(CniError.DECODE_FAILURE, "cannot decode the network configuration",
          "stdin was not a JSON object");
    }
    String version = config.path("cniVersion").asText("");
    if (command != CniCommand.VERSION && !CniRequest.SUPPORTED_VERSIONS.contains(version)) {
      throw new CniException(CniError.INCOMPATIBLE_VERSION,
          "incompatible CNI version \"" + version + "\"",
          "anetd supports " + CniRequest.SUPPORTED_VERSIONS_ORDERED);
    }
    JsonNode prev = config.get("prevResult");
    return new CniRequest(command, r.path("containerId").asText(""), r.path("netns").asText(""),
        r.path("ifname").asText(""), parseCniArgs(r.path("args").asText("")),
        r.path("path").asText(""), version, config.path("name").asText(""),
        prev == null || prev.isNull() ? null : prev,
        command == CniCommand.GC ? validAttachments(config) : Set.of());
  }

  /** CNI_ARGS "K1=V1;K2=V2" as a map; pairs without '=' are ignored. */
  static Map<String, String> parseCniArgs(String args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : args.split(";")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
      }
    }
    return out;
  }

  /**
   * GC's list of attachments to keep. A missing list is an error, not an empty one: GC removes
   * every attachment that is not listed, i.e. every pod of the node.
   */
  private static Set<AttachmentKey> validAttachments(JsonNode config) {
    Set<AttachmentKey> out = new HashSet<>();
    String key = config.hasNonNull(VALID_ATTACHMENTS) ? VALID_ATTACHMENTS : ATTACHMENTS;
    JsonNode list = config.get(key);
    if (list == null || list.isNull()) {
      throw new CniException(CniError.INVALID_CONFIG, "invalid network configuration",
          "GC needs the attachments to keep in " + VALID_ATTACHMENTS + " (or " + ATTACHMENTS
              + "); nothing was removed");
    }
    if (!list.isArray()) {
      throw new CniException(CniError.INVALID_CONFIG, key + " must be a list", null);
    }
    for (JsonNode a : list) {
      String id = a.path("containerID").asText("");
      String ifname = a.path("ifname").asText("");
      if (id.isEmpty() || ifname.isEmpty()) {
        throw new CniException(CniError.INVALID_CONFIG, key
            + " entries need containerID and ifname", a.toString());
      }
      out.add(new AttachmentKey(id, ifname));
    }
    return out;
  }

  /**
   * An ADD result in {@code cniVersion}. With a {@code prevResult} (a plugin ran before us in a
   * chain) its interfaces, ips, routes and dns are kept and ours appended, as the spec requires.
   */
  public static byte[] renderResult(String cniVersion, CniResult result, JsonNode prevResult) {
    ObjectNode out = JSON.createObjectNode();
    out.put("cniVersion", cniVersion);
    ArrayNode interfaces = out.putArray("interfaces");
    ArrayNode ips = out.putArray("ips");
    ArrayNode routes = out.putArray("routes");
    ObjectNode dns = JSON.createObjectNode();
    if (prevResult != null && prevResult.isObject()) {
      prevResult.path("interfaces").forEach(interfaces::add);
      prevResult.path("ips").forEach(ips::add);
      prevResult.path("routes").forEach(routes::add);
      if (prevResult.path("dns").isObject()) {
        dns.setAll((ObjectNode) prevResult.get("dns"));
      }
    }
    int offset = interfaces.size();
    for (CniResult.Interface i : result.interfaces()) {
      ObjectNode n = interfaces.addObject();
      n.put("name", i.name());
      if (i.mac() != null && !i.mac().isEmpty()) {
        n.put("mac", i.mac());
      }
      if (i.sandbox() != null && !i.sandbox().isEmpty()) {
        n.put("sandbox", i.sandbox());
      }
    }
    boolean needsVersionField = cniVersion.startsWith("0.");
    for (CniResult.IpConfig ip : result.ips()) {
      ObjectNode n = ips.addObject();
      if (needsVersionField) {
        n.put("version", "4"); // 0.3.x and 0.4.0 results name the IP family
      }
      n.put("address", ip.address());
      if (ip.gateway() != null) {
        n.put("gateway", ip.gateway());
      }
      n.put("interface", ip.interfaceIndex() + offset);
    }
    for (CniResult.Route r : result.routes()) {
      ObjectNode n = routes.addObject();
      n.put("dst", r.dst());
      if (r.gw() != null) {
        n.put("gw", r.gw());
      }
    }
    out.set("dns", dns);
    return bytes(out);
  }

  public static byte[] renderError(String cniVersion, CniError error) {
    ObjectNode out = JSON.createObjectNode();
    out.put("cniVersion", cniVersion == null || cniVersion.isEmpty() ? "1.1.0" : cniVersion);
    out.put("code", error.code());
    out.put("msg", error.msg());
    if (error.details() != null) {
      out.put("details", error.details());
    }
    return bytes(out);
  }

  public static byte[] renderVersion() {
    ObjectNode out = JSON.createObjectNode();
    out.put("cniVersion", "1.1.0");
    ArrayNode list = out.putArray("supportedVersions");
    CniRequest.SUPPORTED_VERSIONS_ORDERED.forEach(list::add);
    return bytes(out);
  }

  /** The reply frame: "EXIT\n" then the bytes the plugin prints on stdout. */
  public static byte[] frame(int exitCode, byte[] stdout) {
    byte[] head = (exitCode + "\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + stdout.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(stdout, 0, out, head.length, stdout.length);
    return out;
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return (JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode CNI JSON: " + e.getMessage(), e);
    }
  }
}
