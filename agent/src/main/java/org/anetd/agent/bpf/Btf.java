package org.anetd.agent.bpf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jnr.ffi.Pointer;

/** Struct layouts read from the BTF of a compiled object (the single source of map layouts). */
public final class Btf implements AutoCloseable {
  /** A struct member: byte offset and byte size (bitfields are not used in shared structs). */
  public record Member(String name, int offset, int size) {}

  /** A struct: total size and members in declaration order. */
  public record StructLayout(String name, int size, List<Member> members) {}

  private static final int BTF_KIND_STRUCT = 4;

  private final LibBpfNative bpf = Native.get().bpf;
  private final String source;
  private Pointer btf;

  private Btf(String source, Pointer btf) {
    this.source = source;
    this.btf = btf;
  }

  public static Btf parseElf(Path object) {
    Native n = Native.get();
    Pointer btf = n.bpf.btf__parse_elf(object.toString(), null);
    if (btf == null) {
      throw new BpfException("btf__parse_elf", "object " + object, -n.lastErrno());
    }
    return new Btf(object.toString(), btf);
  }

  public Optional<StructLayout> struct(String name) {
    int id = bpf.btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
    if (id < 0) {
      return Optional.empty();
    }
    Pointer t = bpf.btf__type_by_id(btf, id);
    int info = t.getInt(4);
    int vlen = info & 0xffff;
    boolean kindFlag = (info >>> 31) != 0;
    int size = t.getInt(8);
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < vlen; i++) {
      long base = 12L + 12L * i; // struct btf_member {name_off, type, offset}
      String memberName = bpf.btf__name_by_offset(btf, t.getInt(base));
      int type = t.getInt(base + 4);
      int bitOffset = t.getInt(base + 8);
      if (kindFlag) {
        bitOffset &= 0xffffff;
      }
      long memberSize = bpf.btf__resolve_size(btf, type);
      if (memberSize < 0) {
        throw new BpfException("btf__resolve_size", "member " + name + "." + memberName
            + " in " + source, (int) memberSize);
      }
      members.add(new Member(memberName, bitOffset / 8, (int) memberSize));
    }
    return Optional.of(new StructLayout(name, size, List.copyOf(members)));
  }

  @Override
  public void close() {
    if (btf != null) {
      bpf.btf__free(btf);
      btf = null;
    }
  }
}
