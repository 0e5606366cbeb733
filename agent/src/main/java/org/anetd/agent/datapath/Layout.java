package org.anetd.agent.datapath;

import java.util.List;

/**
 * The byte layout a codec assumes for a C struct: total size and every field, padding included.
 * Compared with the compiled object's BTF by CodecLayoutKernelTest.
 */
public record Layout(String cStruct, int size, List<Field> fields) {
  /** One struct member: C name, byte offset, byte size. */
  public record Field(String name, int offset, int size) {}

  public static Layout of(String cStruct, int size, Field... fields) {
    return new Layout(cStruct, size, List.of(fields));
  }

  public static Field field(String name, int offset, int size) {
    return new Field(name, offset, size);
  }
}
