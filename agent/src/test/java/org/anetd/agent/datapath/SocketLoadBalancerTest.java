package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.anetd.agent.bpf.BpfException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the node's cgroup v2 root is: cgroup-root, or the cgroup2 mount in /proc/self/mountinfo. */
class SocketLoadBalancerTest {

  @Test
  void unifiedHostHasCgroup2AtSysFsCgroup() {
    String mountinfo = """
        22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
        27 22 0:24 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:10 - bpf bpf rw,mode=700
        """;

    assertThat(SocketLoadBalancer.cgroup2Mount(mountinfo)).contains(Path.of("/sys/fs/cgroup"));
  }

  @Test
  void hybridHostHasCgroup2UnderUnifiedNextToV1Controllers() {
    String mountinfo = """
        30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
        32 30 0:28 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu
        """;

    assertThat(SocketLoadBalancer.cgroup2Mount(mountinfo))
        .contains(Path.of("/sys/fs/cgroup/unified"));
  }

  @Test
  void optionalFieldsBeforeTheSeparatorAreSkipped() {
    String mountinfo = "40 22 0:30 / /run/anetd/cgroup\\040v2 rw shared:1 master:2 propagate_from:3"
        + " - cgroup2 none rw\n";

    assertThat(SocketLoadBalancer.cgroup2Mount(mountinfo)).contains(Path.of("/run/anetd/cgroup v2"));
  }

  @Test
  void v1OnlyHostHasNone() {
    String mountinfo = "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";

    assertThat(SocketLoadBalancer.cgroup2Mount(mountinfo)).isEmpty();
  }

  @Test
  void configuredCgroupV2DirectoryIsUsedAsIs(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("cgroup.controllers"), "cpu memory\n");

    assertThat(SocketLoadBalancer.cgroupRoot(Optional.of(dir))).isEqualTo(dir);
  }

  @Test
  void configuredHybridHierarchyIsFollowedToUnified(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("unified"));
    Files.writeString(dir.resolve("unified/cgroup.controllers"), "\n");

    assertThat(SocketLoadBalancer.cgroupRoot(Optional.of(dir))).isEqualTo(dir.resolve("unified"));
  }

  @Test
  void configuredDirectoryWithoutCgroupV2IsRefusedNamingIt(@TempDir Path dir) {
    assertThatThrownBy(() -> SocketLoadBalancer.cgroupRoot(Optional.of(dir)))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("cgroup-root " + dir + " is not a cgroup v2 directory");
  }
}
