package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How commands are run (no root: plain commands in the agent's own namespace). */
class NetnsCommandTest {
  @Test
  void aCommandThatHangsIsKilledAtItsTimeoutAndFailsNamingIt() {
    assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
        assertThatThrownBy(() ->
            NetnsCommand.run(null, List.of("sleep", "60"), Duration.ofSeconds(1)))
            .hasMessage("`sleep 60` did not finish in 1 s and was killed"));
  }

  @Test
  void aCommandThatFinishesGivesItsExitCodeAndOutput() {
    NetnsCommand.Result r = NetnsCommand.run(null,
        List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));

    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.output()).isEqualTo("out\nerr\n");
  }
}
