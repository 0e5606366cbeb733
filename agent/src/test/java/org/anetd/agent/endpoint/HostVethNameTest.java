package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostVethNameTest {
  private static final AttachmentKey POD = new AttachmentKey(
      "3f1c0e4b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b", "eth0");

  @Test
  void isLxcAndElevenHexDigitsWithinTheKernelLimit() {
    String name = HostVethName.of(POD);

    assertThat(name).matches("lxc[0-9a-f]{11}");
    assertThat(name.length()).isLessThanOrEqualTo(15);
  }

  @Test
  void isTheSameForTheSameAttachmentSoDelFindsItAfterACrash() {
    assertThat(HostVethName.of(POD))
        .isEqualTo(HostVethName.of(new AttachmentKey(POD.containerId(), "eth0")));
  }

  @Test
  void differsPerContainerAndPerInterface() {
    assertThat(HostVethName.of(POD))
        .isNotEqualTo(HostVethName.of(new AttachmentKey(POD.containerId() + "x", "eth0")))
        .isNotEqualTo(HostVethName.of(new AttachmentKey(POD.containerId(), "eth1")));
  }
}
