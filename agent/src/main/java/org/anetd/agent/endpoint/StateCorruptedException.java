package org.anetd.agent.endpoint;

import java.nio.file.Path;

/**
 * A state file that cannot be read back. Never answered by starting empty: an empty IPAM store
 * would hand out addresses that running pods still use.
 */
public final class StateCorruptedException extends RuntimeException {
  private final Path file;

  public StateCorruptedException(Path file, String problem, Throwable cause) {
    super("state file " + file + " is corrupted (" + problem + "); it was left as it is."
        + " Inspect it, then repair or restore it (docs/cni.md, \"State\", says which state"
        + " file may be removed instead)", cause);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
