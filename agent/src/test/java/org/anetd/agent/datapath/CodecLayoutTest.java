package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.anetd.agent.bpf.Btf;
import org.anetd.agent.testing.EbpfObjects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every codec in {@link CodecRegistry} agrees with the C struct it mirrors, field by field, as the
 * BTF of ebpf/structs.o describes it. A missing object fails (never skips).
 */
class CodecLayoutTest {
  private static Btf btf;

  @BeforeAll
  static void parse() {
    btf = Btf.parseElf(EbpfObjects.path("structs.o"));
  }

  @AfterAll
  static void close() {
    btf.close();
  }

  static Stream<Codec<?>> codecs() {
    return CodecRegistry.CODECS.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void codecLayoutMatchesTheCStruct(Codec<?> codec) {
    Layout java = codec.layout();
    Btf.StructLayout c = btf.struct(java.cStruct()).orElseThrow(() -> new AssertionError(
        "struct " + java.cStruct() + " is not declared in ebpf/structs.c"));

    assertThat(java.size()).as("sizeof(struct %s)", c.name()).isEqualTo(c.size());
    List<Layout.Field> expected = c.members().stream()
        .map(m -> new Layout.Field(m.name(), m.offset(), m.size())).toList();
    assertThat(java.fields()).as("fields of struct %s (name, offset, size)", c.name())
        .containsExactlyElementsOf(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void encodedValueHasTheStructSize(Codec<?> codec) {
    assertThat(codec.size()).isEqualTo(codec.layout().size());
  }

  @Test
  void everyStructInStructsObjectHasACodec() {
    List<String> registered = CodecRegistry.CODECS.stream().map(c -> c.layout().cStruct()).toList();
    assertThat(registered).doesNotHaveDuplicates();
    for (String name : List.of("metrics_value", "lb4_key", "lb4_service",
        "lb4_backend", "lb4_reverse_nat", "lb4_affinity_key", "lb4_affinity_value", "ct4_key",
        "ct4_entry", "ipcache4_key", "ipcache4_value", "policy_key", "policy_entry",
        "endpoint_policy", "event", "lxc4_info")) {
      assertThat(btf.struct(name)).as("struct %s in structs.o", name).isPresent();
      assertThat(registered).as("codec registered for struct %s", name).contains(name);
    }
  }
}
