package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CniJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static byte[] request(String command, String config) {
    ObjectNode r = JSON.createObjectNode();
    r.put("command", command);
    r.put("containerId", "c0ffee");
    r.put("netns", "/var/run/netns/pod1");
    r.put("ifname", "eth0");
    r.put("args", "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart-7d9;K8S_POD_UID=u1");
    r.put("path", "/opt/cni/bin");
    r.put("stdinData", config);
    return r.toString().getBytes(StandardCharsets.UTF_8);
  }

  static final String CONFIG = "{\"cniVersion\":\"1.0.0\",\"name\":\"anetd\",\"type\":\"anetd-cni\","
      + "\"agentSocket\":\"/run/anetd/cni.sock\"}";

  static final CniResult RESULT = new CniResult(
      List.of(new CniResult.Interface("lxc0123456789a", "02:00:00:00:00:01", ""),
          new CniResult.Interface("eth0", "02:00:00:00:00:02", "/var/run/netns/pod1")),
      List.of(new CniResult.IpConfig("10.4.1.2/32", "169.254.1.1", 1)),
      List.of(new CniResult.Route("0.0.0.0/0", null)));

  @Test
  void requestCarriesTheEnvironmentThePodAndTheConfigVersion() {
    CniRequest r = CniJson.parseRequest(request("ADD", CONFIG));

    assertThat(r.command()).isEqualTo(CniCommand.ADD);
    assertThat(r.key()).isEqualTo(new AttachmentKey("c0ffee", "eth0"));
    assertThat(r.netns()).isEqualTo("/var/run/netns/pod1");
    assertThat(r.pod()).isEqualTo(new PodRef("shop", "cart-7d9"));
    assertThat(r.cniVersion()).isEqualTo("1.0.0");
    assertThat(r.networkName()).isEqualTo("anetd");
    assertThat(r.prevResult()).isNull();
  }

  /** deploy/ offers both in cniVersions; the runtime passes the one it picked as cniVersion. */
  @Test
  void requestsInEitherVersionTheDeployedConfigOffersAreAccepted() {
    for (String version : List.of("1.0.0", "1.1.0")) {
      String config = "{\"cniVersion\":\"" + version + "\","
          + "\"cniVersions\":[\"1.0.0\",\"1.1.0\"],\"name\":\"anetd\",\"type\":\"anetd-cni\"}";

      assertThat(CniJson.parseRequest(request("ADD", config)).cniVersion()).isEqualTo(version);
    }
  }

  @Test
  void gcRequestCarriesTheValidAttachments() {
    String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"anetd\",\"cni.dev/valid-attachments\":"
        + "[{\"containerID\":\"a\",\"ifname\":\"eth0\"},{\"containerID\":\"b\",\"ifname\":\"eth0\"}]}";

    CniRequest r = CniJson.parseRequest(request("GC", config));

    assertThat(r.validAttachments()).containsExactlyInAnyOrder(new AttachmentKey("a", "eth0"),
        new AttachmentKey("b", "eth0"));
  }

  @Test
  void gcRequestTakesTheAttachmentsUnderTheKeyOfEarlierSpecTexts() {
    String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"anetd\",\"cni.dev/attachments\":"
        + "[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}";

    CniRequest r = CniJson.parseRequest(request("GC", config));

    assertThat(r.validAttachments()).containsExactly(new AttachmentKey("a", "eth0"));
  }

  /** Read as "no attachment is valid", it would remove every pod of the node. */
  @Test
  void gcRequestWithoutAttachmentsIsErrorSeven() {
    String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"anetd\"}";

    assertThatThrownBy(() -> CniJson.parseRequest(request("GC", config)))
        .isInstanceOfSatisfying(CniException.class, e -> {
          assertThat(e.error().code()).isEqualTo(7);
          assertThat(e.error().details()).contains("cni.dev/valid-attachments");
        });
  }

  @Test
  void gcRequestWithAnEmptyListOfAttachmentsKeepsNone() {
    String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"anetd\","
        + "\"cni.dev/valid-attachments\":[]}";

    assertThat(CniJson.parseRequest(request("GC", config)).validAttachments()).isEmpty();
  }

  @Test
  void unsupportedCniVersionIsErrorOne() {
    assertThatThrownBy(() -> CniJson.parseRequest(request("ADD", "{\"cniVersion\":\"0.2.0\"}")))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.INCOMPATIBLE_VERSION));
  }

  @Test
  void unknownCommandIsErrorFourAndGarbageIsErrorSix() {
    assertThatThrownBy(() -> CniJson.parseRequest(request("FROB", CONFIG)))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.INVALID_ENVIRONMENT));
    assertThatThrownBy(() -> CniJson.parseRequest("{nope".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.DECODE_FAILURE));
    assertThatThrownBy(() -> CniJson.parseRequest(request("ADD", "not json")))
        .isInstanceOfSatisfying(CniException.class,
            e -> assertThat(e.error().code()).isEqualTo(CniError.DECODE_FAILURE));
  }

  @Test
  void resultHasTheSpecShapeInTheCallersVersion() throws Exception {
    JsonNode out = JSON.readTree(CniJson.renderResult("1.0.0", RESULT, null));

    assertThat(out).isEqualTo(JSON.readTree("""
        {"cniVersion":"1.0.0",
         "interfaces":[{"name":"lxc0123456789a","mac":"02:00:00:00:00:01"},
                       {"name":"eth0","mac":"02:00:00:00:00:02","sandbox":"/var/run/netns/pod1"}],
         "ips":[{"address":"10.4.1.2/32","gateway":"169.254.1.1","interface":1}],
         "routes":[{"dst":"0.0.0.0/0"}],
         "dns":{}}"""));
  }

  @Test
  void preOneZeroResultsNameTheIpVersion() throws Exception {
    JsonNode out = JSON.readTree(CniJson.renderResult("0.4.0", RESULT, null));

    assertThat(out.at("/ips/0/version").asText()).isEqualTo("4");
  }

  @Test
  void aPreviousResultIsKeptAndOurInterfaceIndexesShift() throws Exception {
    JsonNode prev = JSON.readTree("""
        {"interfaces":[{"name":"net1","sandbox":"/var/run/netns/pod1"}],
         "ips":[{"address":"192.168.5.9/24","interface":0}],
         "dns":{"nameservers":["10.0.0.10"]}}""");

    JsonNode out = JSON.readTree(CniJson.renderResult("1.1.0", RESULT, prev));

    assertThat(out.at("/interfaces/0/name").asText()).isEqualTo("net1");
    assertThat(out.at("/interfaces/2/name").asText()).isEqualTo("eth0");
    assertThat(out.at("/ips/1/interface").asInt()).isEqualTo(2);
    assertThat(out.at("/dns/nameservers/0").asText()).isEqualTo("10.0.0.10");
  }

  @Test
  void errorHasCodeMessageAndDetails() throws Exception {
    JsonNode out = JSON.readTree(CniJson.renderError("1.0.0",
        new CniError(CniError.POOL_EXHAUSTED, "no free pod address", "pod CIDR ...")));

    assertThat(out).isEqualTo(JSON.readTree(
        "{\"cniVersion\":\"1.0.0\",\"code\":100,\"msg\":\"no free pod address\","
            + "\"details\":\"pod CIDR ...\"}"));
  }

  @Test
  void serverFramesSuccessAsExitZeroAndFailuresAsExitOneWithTheError() {
    CniHandler handler = new CniHandler() {
      @Override
      public CniResult add(CniRequest request) {
        return RESULT;
      }

      @Override
      public void del(CniRequest request) {
        throw new CniException(CniError.TRY_AGAIN_LATER, "busy", null);
      }

      @Override
      public void check(CniRequest request) {
        throw new IllegalStateException("boom");
      }

      @Override
      public void status(CniRequest request) {}

      @Override
      public void gc(CniRequest request) {}
    };

    String add = new String(CniServer.respond(handler, request("ADD", CONFIG)),
        StandardCharsets.UTF_8);
    String del = new String(CniServer.respond(handler, request("DEL", CONFIG)),
        StandardCharsets.UTF_8);
    String check = new String(CniServer.respond(handler, request("CHECK", CONFIG)),
        StandardCharsets.UTF_8);
    String status = new String(CniServer.respond(handler, request("STATUS", CONFIG)),
        StandardCharsets.UTF_8);

    assertThat(add).startsWith("0\n{\"cniVersion\":\"1.0.0\",\"interfaces\"");
    assertThat(del).isEqualTo("1\n{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"busy\"}\n");
    assertThat(check).startsWith("1\n").contains("\"code\":103").contains("boom");
    assertThat(status).isEqualTo("0\n");
  }

  @Test
  void cniArgsSplitIntoPairs() {
    assertThat(CniJson.parseCniArgs("IgnoreUnknown=1;K8S_POD_NAME=a=b;junk;;"))
        .containsEntry("IgnoreUnknown", "1").containsEntry("K8S_POD_NAME", "a=b").hasSize(2);
  }
}
