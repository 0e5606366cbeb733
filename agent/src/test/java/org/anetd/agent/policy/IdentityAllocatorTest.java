package org.anetd.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.anetd.agent.datapath.Ipcache4Value;
import org.junit.jupiter.api.Test;

class IdentityAllocatorTest {
  static LabelSet set(String... labels) {
    return new LabelSet(new TreeSet<>(List.of(labels)));
  }

  @Test
  void firstAllocationStartsAtFirstAllocatedId() {
    IdentityAllocation a = IdentityAllocator.allocate(IdentityAllocation.EMPTY,
        List.of(set("k8s:pod=b"), set("k8s:pod=a")));
    assertThat(a.ids()).containsExactlyInAnyOrderEntriesOf(Map.of(
        set("k8s:pod=a"), Ipcache4Value.IDENTITY_FIRST_ALLOCATED,
        set("k8s:pod=b"), Ipcache4Value.IDENTITY_FIRST_ALLOCATED + 1));
  }

  @Test
  void existingSetsKeepTheirIds() {
    IdentityAllocation first = IdentityAllocator.allocate(IdentityAllocation.EMPTY,
        List.of(set("k8s:pod=b")));
    IdentityAllocation next = IdentityAllocator.allocate(first,
        List.of(set("k8s:pod=a"), set("k8s:pod=b")));
    assertThat(next.id(set("k8s:pod=b"))).isEqualTo(first.id(set("k8s:pod=b")));
    assertThat(next.id(set("k8s:pod=a"))).contains(Ipcache4Value.IDENTITY_FIRST_ALLOCATED + 1);
  }

  @Test
  void unusedSetsAreReleasedButTheirIdsAreNotReusedInTheSamePass() {
    IdentityAllocation first = IdentityAllocator.allocate(IdentityAllocation.EMPTY,
        List.of(set("k8s:pod=a"), set("k8s:pod=b"), set("k8s:pod=c")));
    IdentityAllocation next = IdentityAllocator.allocate(first,
        List.of(set("k8s:pod=c"), set("k8s:pod=d")));
    assertThat(next.ids()).doesNotContainKeys(set("k8s:pod=a"), set("k8s:pod=b"));
    assertThat(next.id(set("k8s:pod=c"))).isEqualTo(first.id(set("k8s:pod=c")));
    assertThat(next.id(set("k8s:pod=d"))).contains(Ipcache4Value.IDENTITY_FIRST_ALLOCATED + 3);
  }

  @Test
  void idsReleasedInThePreviousPassAreReusedLowestFirst() {
    IdentityAllocation first = IdentityAllocator.allocate(IdentityAllocation.EMPTY,
        List.of(set("k8s:pod=a"), set("k8s:pod=b")));
    IdentityAllocation released = IdentityAllocator.allocate(first, List.of(set("k8s:pod=b")));
    IdentityAllocation next = IdentityAllocator.allocate(released,
        List.of(set("k8s:pod=b"), set("k8s:pod=e")));
    assertThat(next.id(set("k8s:pod=e"))).contains(Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
  }

  @Test
  void podLabelSetIncludesNamespaceNameAndLabels() {
    LabelSet s = LabelSet.ofPod("x", Map.of("pod", "a"), Map.of("ns", "x"), List.of());
    assertThat(s.labels()).containsExactly("k8s:io.kubernetes.pod.namespace=x", "k8s:pod=a",
        "ns:ns=x");
  }
}
