package org.anetd.agent.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Event names: stable, distinct per problem and node, and always valid Kubernetes names. */
class EventNamesTest {
  private static final String DNS_SUBDOMAIN =
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
  private static final ObjectRef POLICY = new ObjectRef("NetworkPolicy", "shop", "allow-web");
  private static final String MESSAGE = "spec.ingress[0].from[0].ipBlock.cidr: 10.0.0.0/33";

  private static String name(Reason reason, String message, ObjectRef object, String node) {
    return EventNames.eventName(reason, message, object, node);
  }

  @Test
  void sameProblemOnSameNodeAlwaysGetsThisName() {
    // Pinned (SHA-256 of the length-prefixed fields, computed outside Java): a changed hash
    // would orphan the Events that running agents already created.
    assertThat(name(Reason.InvalidCidr, MESSAGE, POLICY, "node-a"))
        .isEqualTo(name(Reason.InvalidCidr, MESSAGE, POLICY, "node-a"))
        .isEqualTo("allow-web.98779699ad853fa7");
  }

  static Stream<Arguments> oneInputChanged() {
    return Stream.of(
        Arguments.of("reason", name(Reason.InvalidIp, MESSAGE, POLICY, "node-a")),
        Arguments.of("message", name(Reason.InvalidCidr, MESSAGE + " ", POLICY, "node-a")),
        Arguments.of("kind", name(Reason.InvalidCidr, MESSAGE,
            new ObjectRef("Service", "shop", "allow-web"), "node-a")),
        Arguments.of("namespace", name(Reason.InvalidCidr, MESSAGE,
            new ObjectRef("NetworkPolicy", "shop2", "allow-web"), "node-a")),
        Arguments.of("name", name(Reason.InvalidCidr, MESSAGE,
            new ObjectRef("NetworkPolicy", "shop", "allow-web2"), "node-a")),
        Arguments.of("node", name(Reason.InvalidCidr, MESSAGE, POLICY, "node-b")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oneInputChanged")
  void everyInputChangesTheName(String changed, String otherName) {
    assertThat(otherName).isNotEqualTo(name(Reason.InvalidCidr, MESSAGE, POLICY, "node-a"));
  }

  @Test
  void fieldBoundariesAreNotAmbiguous() {
    ObjectRef left = new ObjectRef("Pod", "ab", "c");
    ObjectRef right = new ObjectRef("Pod", "a", "bc");

    assertThat(name(Reason.InvalidIp, "m", left, "n").substring(2))
        .isNotEqualTo(name(Reason.InvalidIp, "m", right, "n").substring(3));
  }

  @ParameterizedTest
  @ValueSource(strings = {"web", "Web_Server", "-leading-and-trailing-", "a.b.c", "___",
      "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x123456789"
          + "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x123456789"
          + "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x123456789"})
  void nameIsAValidDnsSubdomainForAnyObjectName(String objectName) {
    String name = name(Reason.InvalidObject, "m", new ObjectRef("ConfigMap", "ns", objectName),
        "node-a");

    assertThat(name).matches(DNS_SUBDOMAIN).hasSizeLessThanOrEqualTo(EventNames.MAX_NAME_LENGTH);
  }

  @Test
  void nameStartsWithTheObjectNameForReadableListings() {
    assertThat(name(Reason.InvalidCidr, MESSAGE, POLICY, "node-a")).startsWith("allow-web.");
  }
}
