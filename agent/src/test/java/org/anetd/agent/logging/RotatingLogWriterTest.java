package org.anetd.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.logging.PolicyActionRecord.Connection;
import org.anetd.agent.logging.PolicyActionRecord.Direction;
import org.anetd.agent.logging.PolicyActionRecord.Disposition;
import org.anetd.agent.logging.PolicyActionRecord.InstancePeer;
import org.anetd.agent.logging.PolicyLoggingCounters.DropReason;
import org.anetd.agent.logging.RotatingLogWriter.FileOpener;
import org.anetd.agent.logging.RotatingLogWriter.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingLogWriterTest {
  @TempDir
  Path dir;
  final PolicyLoggingCounters counters = new PolicyLoggingCounters();

  /** Record {@code i}: every line has the same length (ports are 5 digits). */
  static PolicyActionRecord record(int i) {
    Ipv4 src = Ipv4.parse("198.51.100.7");
    Ipv4 dst = Ipv4.parse("10.0.0.5");
    return new PolicyActionRecord(
        new Connection(src, dst, 10_000 + i, 5432, Protocol.TCP, Direction.INGRESS),
        Disposition.DENY, List.of(), new InstancePeer(src), new InstancePeer(dst), 1, "node-1",
        Instant.parse("2026-12-02T04:31:00Z"));
  }

  static int lineLength() {
    return PolicyActionFormatter.format(record(0)).length() + 1;
  }

  Options options(Path file, long maxBytes, int queue, int batch) {
    return new Options(file, maxBytes, 5, queue, batch);
  }

  static List<String> lines(Path f) throws IOException {
    return Files.readAllLines(f);
  }

  @Test
  void createsParentDirectoriesAndAppendsOneLinePerRecord() throws IOException {
    Path file = dir.resolve("var/log/network/policy_action.log");
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 100, 10), counters);
    for (int i = 0; i < 25; i++) {
      assertThat(w.offer(record(i))).isTrue();
    }
    assertThat(w.writeQueued()).isEqualTo(25);
    w.close();
    assertThat(lines(file)).hasSize(25).first()
        .isEqualTo(PolicyActionFormatter.format(record(0)));
    assertThat(counters.written()).isEqualTo(25);
  }

  @Test
  void rotatesAtTheSizeLimitKeepingFiveFilesAndNeverSplittingALine() throws IOException {
    Path file = dir.resolve("policy_action.log");
    int perFile = 10;
    RotatingLogWriter w = new RotatingLogWriter(
        options(file, (long) lineLength() * perFile, 1000, 7), counters);
    int total = perFile * 8 + 3; // 8 full files, 3 lines in the current one
    for (int i = 0; i < total; i++) {
      w.offer(record(i));
    }
    w.writeQueued();
    w.close();

    assertThat(lines(file)).hasSize(3);
    for (int n = 1; n <= 5; n++) {
      assertThat(lines(w.rotated(n))).as("file .%d", n).hasSize(perFile);
    }
    assertThat(w.rotated(6)).doesNotExist();
    // Newest in the current file, then .1, .2 ...: the oldest three files were dropped.
    assertThat(lines(file).get(0)).isEqualTo(PolicyActionFormatter.format(record(80)));
    assertThat(lines(w.rotated(1)).get(0)).isEqualTo(PolicyActionFormatter.format(record(70)));
    assertThat(lines(w.rotated(5)).get(0)).isEqualTo(PolicyActionFormatter.format(record(30)));
    assertThat(counters.written()).isEqualTo(total);
  }

  @Test
  void restartAppendsToTheExistingFileAndRotatesItWhenFull() throws IOException {
    Path file = dir.resolve("policy_action.log");
    Files.writeString(file, "x".repeat(lineLength() * 2 - 1) + "\n");
    RotatingLogWriter w = new RotatingLogWriter(options(file, lineLength() * 2L, 10, 10),
        counters);
    w.offer(record(1));
    w.writeQueued();
    w.close();
    assertThat(lines(w.rotated(1))).singleElement().asString().startsWith("xxx");
    assertThat(lines(file)).containsExactly(PolicyActionFormatter.format(record(1)));
  }

  @Test
  void fullQueueRefusesWithoutBlocking() {
    RotatingLogWriter w = new RotatingLogWriter(options(dir.resolve("a.log"), 1 << 20, 2, 10),
        counters);
    assertThat(w.offer(record(1))).isTrue();
    assertThat(w.offer(record(2))).isTrue();
    assertThat(w.offer(record(3))).isFalse();
    assertThat(w.queued()).isEqualTo(2);
  }

  @Test
  void failedOpenDropsTheBatchAsWriteErrorAndTheNextBatchReopens() throws IOException {
    Path file = dir.resolve("policy_action.log");
    AtomicInteger opens = new AtomicInteger();
    FileOpener failFirst = path -> {
      if (opens.incrementAndGet() == 1) {
        throw new IOException("No space left on device");
      }
      return FileOpener.APPEND.open(path);
    };
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 100, 3), counters,
        failFirst);
    for (int i = 0; i < 5; i++) {
      w.offer(record(i));
    }
    w.writeQueued(); // batches of 3 and 2: the first fails to open, the second reopens

    assertThat(counters.dropped(DropReason.WRITE_ERROR)).isEqualTo(3);
    assertThat(counters.written()).isEqualTo(2);
    assertThat(lines(file)).containsExactly(PolicyActionFormatter.format(record(3)),
        PolicyActionFormatter.format(record(4)));
    w.close();
  }

  @Test
  void failedWriteDropsTheChunkAsWriteErrorAndReopens() throws IOException {
    Path file = dir.resolve("policy_action.log");
    List<Boolean> failNext = new ArrayList<>(List.of(true));
    FileOpener flaky = path -> new FilterOutputStream(FileOpener.APPEND.open(path)) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (!failNext.isEmpty() && failNext.remove(0)) {
          throw new IOException("Input/output error");
        }
        out.write(b, off, len);
      }
    };
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 100, 2), counters,
        flaky);
    for (int i = 0; i < 4; i++) {
      w.offer(record(i));
    }
    w.writeQueued();
    w.close();

    assertThat(counters.dropped(DropReason.WRITE_ERROR)).isEqualTo(2);
    assertThat(counters.written()).isEqualTo(2);
    assertThat(counters.written() + counters.dropped()).isEqualTo(4);
    assertThat(lines(file)).hasSize(2);
  }

  @Test
  void aWriteThatFailsHalfWayLeavesNoUnfinishedLineForTheNextRecordToJoin() throws IOException {
    Path file = dir.resolve("policy_action.log");
    List<Boolean> failNext = new ArrayList<>(List.of(false, true));
    FileOpener diskFills = path -> new FilterOutputStream(FileOpener.APPEND.open(path)) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (!failNext.isEmpty() && failNext.remove(0)) {
          out.write(b, off, len / 2 + 3); // what fit before the disk was full
          throw new IOException("No space left on device");
        }
        out.write(b, off, len);
      }
    };
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 100, 2), counters,
        diskFills);
    for (int i = 0; i < 6; i++) {
      w.offer(record(i));
    }
    w.writeQueued();
    w.close();

    assertThat(lines(file)).containsExactly(PolicyActionFormatter.format(record(0)),
        PolicyActionFormatter.format(record(1)), PolicyActionFormatter.format(record(4)),
        PolicyActionFormatter.format(record(5)));
    assertThat(counters.written()).isEqualTo(4);
    assertThat(counters.dropped(DropReason.WRITE_ERROR)).isEqualTo(2);
  }

  @Test
  void aLogMovedAwayByLogrotateIsOpenedAgainAtItsPath() throws IOException {
    Path file = dir.resolve("policy_action.log");
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 100, 10), counters);
    w.offer(record(0));
    w.writeQueued();

    Files.move(file, dir.resolve("policy_action.log-20261203"));
    w.offer(record(1));
    w.writeQueued();
    Files.delete(file);
    w.offer(record(2));
    w.writeQueued();
    w.close();

    assertThat(lines(dir.resolve("policy_action.log-20261203")))
        .containsExactly(PolicyActionFormatter.format(record(0)));
    assertThat(lines(file)).containsExactly(PolicyActionFormatter.format(record(2)));
    assertThat(counters.written()).isEqualTo(3);
  }

  @Test
  void writerThreadWritesWhatIsOfferedAndCloseWritesTheRest() throws IOException {
    Path file = dir.resolve("policy_action.log");
    RotatingLogWriter w = new RotatingLogWriter(options(file, 1 << 20, 1000, 50), counters);
    w.start();
    for (int i = 0; i < 100; i++) {
      w.offer(record(i));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> counters.written() == 100);
    for (int i = 100; i < 120; i++) {
      w.offer(record(i));
    }
    w.close();
    assertThat(counters.written()).isEqualTo(120);
    assertThat(lines(file)).hasSize(120);
    assertThat(w.offer(record(0))).as("closed writer takes nothing").isFalse();
  }

}
