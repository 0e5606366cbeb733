package org.anetd.agent.endpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.anetd.agent.config.DurableFiles;

/**
 * Crash-safe state files: a reader sees the old content or the new one, never a torn write, and
 * a change is on disk before the caller acts on it (an address is durable before a pod uses it).
 */
final class StateFiles {
  // One lock per directory in this JVM: FileChannel.lock is per process, and a second lock on
  // the same file from this JVM would throw OverlappingFileLockException instead of waiting.
  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private StateFiles() {}

  /** Writes temp + fsync + rename + fsync of the directory ({@link DurableFiles}). */
  static void writeAtomically(Path file, byte[] content) {
    try {
      DurableFiles.writeAtomically(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code dir} (0700: allocations name pods) if needed. */
  /** The file's bytes, or empty when it does not exist yet (nothing stored). */
  static java.util.Optional<byte[]> readIfPresent(Path file) {
    try {
      return java.util.Optional.of(Files.readAllBytes(file));
    } catch (java.nio.file.NoSuchFileException e) {
      return java.util.Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static void ensureDirectory(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create state directory " + dir + ": "
          + e.getMessage(), e);
    }
  }

  /** Exclusive access to {@code dir} across threads and processes; close to release. */
  static AutoCloseable lock(Path dir) {
    Path lockFile = dir.resolve("lock");
    ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(dir.toAbsolutePath().normalize(),
        k -> new ReentrantLock());
    jvmLock.lock();
    try {
      FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE,
          StandardOpenOption.WRITE);
      FileLock fileLock;
      try {
        fileLock = ch.lock(); // released by the kernel when a killed process's fd closes
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
      return () -> {
        try {
          fileLock.release();
          ch.close();
        } finally {
          jvmLock.unlock();
        }
      };
    } catch (IOException e) {
      jvmLock.unlock();
      throw new UncheckedIOException("cannot lock " + lockFile + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      jvmLock.unlock();
      throw e;
    }
  }
}
