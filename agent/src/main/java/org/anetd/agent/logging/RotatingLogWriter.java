package org.anetd.agent.logging;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.logging.PolicyLoggingCounters.DropReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends policy action lines to the log file on its own thread, rotating by size: the only I/O
 * of the logging room.
 *
 * <ul>
 *   <li><b>Queue.</b> {@link #offer} never blocks the ring buffer reader: a bounded queue sits
 *       between the logger and the writer thread; a full queue refuses (counted {@code
 *       queue_full} by the logger).
 *   <li><b>Batches and durability.</b> The thread takes what is queued (up to {@code maxBatch}),
 *       formats it and hands it to the kernel with one write per file; nothing is buffered in the
 *       JVM between batches. There is no fsync: lines survive an agent crash, and a kernel crash
 *       can lose the last seconds of a log that is already rate limited, a price worth not
 *       stalling on a disk barrier per batch during a flood.
 *   <li><b>Rotation.</b> Before a line would take the file past {@code maxBytes}, the file
 *       becomes {@code .1}, {@code .1} becomes {@code .2} ... up to {@code keepFiles}; the oldest
 *       is deleted. Lines never straddle files.
 *   <li><b>Errors.</b> A failed open, write or rotation counts the lines it was writing as
 *       dropped ({@code write_error}) and closes the file, cutting off what a failed write left of
 *       its chunk (a disk that filled mid-write); the next batch reopens it, first cutting any
 *       unfinished line still at its end, so every line is one whole JSON object. The
 *       thread never dies of an I/O error.
 *   <li><b>Moved away.</b> Each batch first checks that the path still names the file it has
 *       open; when logrotate (rename and create) or an admin moved or deleted it, the writer
 *       opens the path again instead of appending to a file nobody reads.
 * </ul>
 */
public final class RotatingLogWriter implements PolicyActionSink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RotatingLogWriter.class);
  public static final Path DEFAULT_FILE = Path.of("/var/log/network/policy_action.log");
  public static final long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;
  public static final int DEFAULT_KEEP_FILES = 5;
  public static final int DEFAULT_QUEUE_CAPACITY = 16_384;
  public static final int DEFAULT_MAX_BATCH = 1_024;
  private static final Duration POLL = Duration.ofMillis(200);

  /** Where and how much. {@code keepFiles} rotated files are kept next to {@code file}. */
  public record Options(Path file, long maxBytes, int keepFiles, int queueCapacity,
      int maxBatch) {
    public Options {
      Objects.requireNonNull(file, "file");
      if (maxBytes < 1 || keepFiles < 0 || queueCapacity < 1 || maxBatch < 1) {
        throw new IllegalArgumentException("invalid log writer options: " + this);
      }
    }

    public static Options defaults() {
      return new Options(DEFAULT_FILE, DEFAULT_MAX_BYTES, DEFAULT_KEEP_FILES,
          DEFAULT_QUEUE_CAPACITY, DEFAULT_MAX_BATCH);
    }

    public Options withFile(Path f) {
      return new Options(f, maxBytes, keepFiles, queueCapacity, maxBatch);
    }
  }

  /** Opens the log file for appending; a seam for tests of the error path. */
  @FunctionalInterface
  public interface FileOpener {
    FileOpener APPEND = path -> Files.newOutputStream(path, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND);

    OutputStream open(Path path) throws IOException;
  }

  private final Options options;
  private final PolicyLoggingCounters counters;
  private final FileOpener opener;
  private final BlockingQueue<PolicyActionRecord> queue;
  private final Object writeLock = new Object();
  private volatile boolean stopping;
  private Thread thread;
  private OutputStream out; // null while closed (before the first batch, after an error)
  private Object openFileKey; // the inode out writes to, when the file system tells it
  private long size;

  public RotatingLogWriter(Options options, PolicyLoggingCounters counters) {
    this(options, counters, FileOpener.APPEND);
  }

  public RotatingLogWriter(Options options, PolicyLoggingCounters counters, FileOpener opener) {
    this.options = Objects.requireNonNull(options, "options");
    this.counters = Objects.requireNonNull(counters, "counters");
    this.opener = Objects.requireNonNull(opener, "opener");
    this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
  }

  @Override
  public boolean offer(PolicyActionRecord record) {
    return !stopping && queue.offer(record);
  }

  /** Records waiting to be written. */
  public int queued() {
    return queue.size();
  }

  /** Starts the writer thread (a daemon: it must not keep a dying agent alive). */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("already started");
    }
    thread = new Thread(this::run, "policy-action-log-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Writes everything queued now, in batches, on the calling thread; returns the records
   * written. The writer thread runs this; tests call it directly instead of starting the thread.
   */
  public long writeQueued() {
    long before = counters.written();
    List<PolicyActionRecord> batch = new ArrayList<>(options.maxBatch());
    while (queue.drainTo(batch, options.maxBatch()) > 0) {
      writeBatch(batch);
      batch.clear();
    }
    return counters.written() - before;
  }

  /** Stops taking records, writes what is queued, closes the file. */
  @Override
  public void close() {
    stopping = true;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      try {
        t.join(Duration.ofSeconds(5).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    writeQueued();
    synchronized (writeLock) {
      closeQuietly();
    }
  }

  private void run() {
    List<PolicyActionRecord> batch = new ArrayList<>(options.maxBatch());
    while (!stopping) {
      try {
        PolicyActionRecord first = queue.poll(POLL.toMillis(), TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, options.maxBatch() - 1);
        writeBatch(batch);
        batch.clear();
      } catch (InterruptedException e) {
        return; // close() writes what is left
      } catch (RuntimeException e) {
        // writeBatch accounts for its records itself; this only keeps the thread alive.
        batch.clear();
        LOG.error("policy action log: writer thread error", e);
      }
    }
  }

  private void writeBatch(List<PolicyActionRecord> batch) {
    synchronized (writeLock) {
      if (out != null && movedAway()) {
        LOG.info("policy action log: {} was moved or deleted, opening it again", options.file());
        closeQuietly();
      }
      ByteArrayOutputStream chunk = new ByteArrayOutputStream();
      int lines = 0;
      for (int i = 0; i < batch.size(); i++) {
        byte[] line;
        try {
          line = (PolicyActionFormatter.format(batch.get(i)) + "\n")
              .getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
          // A formatting bug loses one record, counted, never the thread or the batch.
          counters.recordDropped(DropReason.WRITE_ERROR, 1);
          LOG.error("policy action log: cannot format {}", batch.get(i), e);
          continue;
        }
        boolean ok = out != null || open();
        if (ok && size + chunk.size() > 0
            && size + chunk.size() + line.length > options.maxBytes()) {
          // The line would take the file past its size: write what fits, then rotate.
          ok = writeChunk(chunk, lines) && rotate();
          chunk.reset();
          lines = 0;
        }
        if (!ok) {
          // The file is closed; retrying per line would spin on a broken disk. The rest of the
          // batch is dropped and the next batch reopens the file.
          counters.recordDropped(DropReason.WRITE_ERROR, batch.size() - i);
          return;
        }
        chunk.writeBytes(line);
        lines++;
      }
      writeChunk(chunk, lines);
    }
  }

  /** Writes {@code lines} lines in one call; counts them written, or dropped on failure. */
  private boolean writeChunk(ByteArrayOutputStream chunk, int lines) {
    if (lines == 0) {
      return true;
    }
    if (out == null && !open()) {
      counters.recordDropped(DropReason.WRITE_ERROR, lines);
      return false;
    }
    try {
      chunk.writeTo(out);
      out.flush();
      size += chunk.size();
      counters.recordWritten(lines);
      return true;
    } catch (IOException e) {
      counters.recordDropped(DropReason.WRITE_ERROR, lines);
      LOG.warn("policy action log: writing {} failed ({} lines dropped), reopening: {}",
          options.file(), lines, e.toString());
      long before = size;
      Object written = openFileKey;
      closeQuietly();
      cutBackTo(before, written);
      return false;
    }
  }

  /**
   * Cuts off what a failed write left of its chunk (a disk that filled mid-write): its lines are
   * counted dropped, so none of them stays, whole or in part. Best effort: whatever is left is
   * cut back to a whole line when the file is opened again.
   */
  private void cutBackTo(long length, Object fileKey) {
    try {
      if (fileKey != null && fileKey.equals(fileKey(options.file()))) {
        try (FileChannel ch = FileChannel.open(options.file(), StandardOpenOption.WRITE)) {
          if (ch.size() > length) {
            ch.truncate(length);
          }
        }
      }
    } catch (IOException e) {
      LOG.debug("policy action log: cutting the failed chunk failed: {}", e.toString());
    }
  }

  private boolean open() {
    try {
      Path parent = options.file().toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      size = cutUnfinishedLine(options.file());
      out = opener.open(options.file());
      openFileKey = fileKey(options.file());
      return true;
    } catch (IOException e) {
      LOG.warn("policy action log: cannot open {}: {}", options.file(), e.toString());
      closeQuietly();
      return false;
    }
  }

  /**
   * Cuts {@code file} after its last newline (a line a failed write left unfinished) and returns
   * its size; 0 when it does not exist.
   */
  static long cutUnfinishedLine(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      long end = ch.size();
      long keep = end;
      ByteBuffer buf = ByteBuffer.allocate(4096);
      while (keep > 0) {
        long from = Math.max(0, keep - buf.capacity());
        buf.clear().limit((int) (keep - from));
        while (buf.hasRemaining() && ch.read(buf, from + buf.position()) >= 0) {
          // a positional read may return fewer bytes than asked
        }
        int newline = -1;
        for (int i = buf.position() - 1; i >= 0 && newline < 0; i--) {
          newline = buf.get(i) == '\n' ? i : -1;
        }
        if (newline >= 0) {
          keep = from + newline + 1;
          break;
        }
        keep = from;
      }
      if (keep < end) {
        ch.truncate(keep);
        LOG.warn("policy action log: cut {} bytes of an unfinished line at the end of {}",
            end - keep, file);
      }
      return keep;
    }
  }

  /** Whether the path no longer names the file that is open (renamed, deleted, replaced). */
  private boolean movedAway() {
    try {
      Object now = fileKey(options.file());
      return now == null || openFileKey != null && !openFileKey.equals(now);
    } catch (IOException e) {
      return true;
    }
  }

  private static Object fileKey(Path file) throws IOException {
    return Files.exists(file)
        ? Files.readAttributes(file, BasicFileAttributes.class).fileKey() : null;
  }

  /** file -> file.1 -> file.2 ... -> file.keepFiles (deleted past that); then a new file. */
  private boolean rotate() {
    closeQuietly();
    try {
      Path file = options.file();
      int keep = options.keepFiles();
      if (keep == 0) {
        Files.deleteIfExists(file);
      } else {
        Files.deleteIfExists(rotated(keep));
        for (int i = keep - 1; i >= 1; i--) {
          if (Files.exists(rotated(i))) {
            Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
          }
        }
        if (Files.exists(file)) {
          Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      LOG.warn("policy action log: rotating {} failed: {}", options.file(), e.toString());
      return false;
    }
    return open();
  }

  /** {@code policy_action.log.N}. */
  Path rotated(int n) {
    return options.file().resolveSibling(options.file().getFileName() + "." + n);
  }

  private void closeQuietly() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.debug("policy action log: close failed: {}", e.toString());
      }
    }
    out = null;
    openFileKey = null;
    size = 0;
  }
}
