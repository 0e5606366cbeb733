package org.anetd.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** libbpf's messages reach the agent's log, formatted, at a level that matches their weight. */
@KernelTest
class LibBpfLogKernelTest {
  private final Logger logger = (Logger) LibBpfLog.LOG;
  private final ListAppender<ILoggingEvent> seen = new ListAppender<>();
  private Level before;

  @BeforeEach
  void capture() {
    before = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    seen.start();
    logger.addAppender(seen);
  }

  @AfterEach
  void release() {
    logger.detachAppender(seen);
    logger.setLevel(before);
  }

  private List<String> at(Level level) {
    return seen.list.stream().filter(e -> e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void aLibbpfWarningIsLoggedAsAWarningWithItsArgumentsFormatted() {
    byte[] notElf = "not an ELF object".getBytes(StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> BpfObject.open("garbage.o", notElf)).isInstanceOf(BpfException.class);

    assertThat(at(Level.WARN)).isNotEmpty()
        .allSatisfy(m -> assertThat(m).doesNotContain("%s").doesNotContain("%d")
            .doesNotEndWith("\n"))
        // libbpf names an object opened from memory by its address and size: "%lx-%zx"
        .anySatisfy(m -> assertThat(m).matches("libbpf: elf: '[0-9a-f]+-[0-9a-f]+' is not a proper"
            + " ELF object"));
  }

  @Test
  void aProgramTheVerifierRejectsLeavesItsWholeVerifierLogInTheAgentLog() {
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("tests/verifier_reject.o"));
    try {
      assertThatThrownBy(obj::load).isInstanceOf(BpfException.class)
          .hasMessageContaining("verifier output above");
    } finally {
      obj.close();
    }

    String log = String.join("\n", at(Level.WARN));
    assertThat(log).contains("-- BEGIN PROG LOAD LOG --").contains("-- END PROG LOAD LOG --")
        .contains("invalid access to packet");
    // One libbpf message of over 1 KiB, whole: its END marker comes last.
    assertThat(log.length()).isGreaterThan(1024);
  }

  @Test
  void reusingAClsactHookThatExistsWarnsNobody(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    NetnsLab.Netns pod = lab.netns("pod");
    lab.veth(node, "hveth", pod, "eth0");
    BpfObject obj = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(obj::close);
    BpfProgram prog = obj.pinMapsUnder(lab.bpffsDir("log")).load().program("from_container");
    seen.list.clear();

    node.call(() -> {
      int ifindex = NetworkNamespace.ifindex("hveth");
      TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, prog);
      TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, prog); // the hook exists now
      return null;
    });

    assertThat(at(Level.WARN)).isEmpty();
    assertThat(at(Level.DEBUG)).anySatisfy(m -> assertThat(m).contains("Exclusivity flag on"));
  }
}
