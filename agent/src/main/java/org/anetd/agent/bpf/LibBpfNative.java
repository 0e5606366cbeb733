package org.anetd.agent.bpf;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * The libbpf 1.x functions the agent uses, as jnr-ffi sees them. int-returning functions return
 * a negative errno on failure; pointer-returning ones return NULL and set errno (hence
 * {@link SaveError}). Struct arguments are zero-filled native memory with the exact {@code sz}.
 * Public only because jnr-ffi generates its implementation in another class loader; use the
 * typed classes of this package instead.
 */
public interface LibBpfNative {

  // --- objects -------------------------------------------------------------------------------
  @SaveError
  Pointer bpf_object__open_mem(@In byte[] buf, @size_t long size, Pointer opts);

  int bpf_object__load(Pointer obj);

  void bpf_object__close(Pointer obj);

  Pointer bpf_object__find_map_by_name(Pointer obj, String name);

  Pointer bpf_object__next_map(Pointer obj, Pointer prev);

  Pointer bpf_object__find_program_by_name(Pointer obj, String name);

  Pointer bpf_object__next_program(Pointer obj, Pointer prev);

  Pointer bpf_object__btf(Pointer obj);

  // --- maps of an object -----------------------------------------------------------------------
  String bpf_map__name(Pointer map);

  int bpf_map__fd(Pointer map);

  int bpf_map__type(Pointer map);

  int bpf_map__key_size(Pointer map);

  int bpf_map__value_size(Pointer map);

  int bpf_map__max_entries(Pointer map);

  int bpf_map__set_max_entries(Pointer map, int maxEntries);

  int bpf_map__set_pin_path(Pointer map, String path);

  Pointer bpf_map__initial_value(Pointer map, Pointer psize);

  // --- programs ------------------------------------------------------------------------------
  String bpf_program__name(Pointer prog);

  int bpf_program__fd(Pointer prog);

  int bpf_program__type(Pointer prog);

  // --- map syscalls --------------------------------------------------------------------------
  int bpf_map_update_elem(int fd, @In byte[] key, @In byte[] value, long flags);

  int bpf_map_lookup_elem(int fd, @In byte[] key, @Out byte[] value);

  int bpf_map_delete_elem(int fd, @In byte[] key);

  int bpf_map_get_next_key(int fd, @In byte[] key, @Out byte[] nextKey);

  int bpf_map_lookup_batch(int fd, Pointer inBatch, Pointer outBatch, Pointer keys, Pointer values,
      Pointer count, Pointer opts);

  int bpf_map_update_batch(int fd, Pointer keys, Pointer values, Pointer count, Pointer opts);

  int bpf_map_delete_batch(int fd, Pointer keys, Pointer count, Pointer opts);

  int bpf_obj_pin(int fd, String path);

  int bpf_obj_get(String path);

  int bpf_obj_get_info_by_fd(int fd, Pointer info, Pointer infoLen);

  int bpf_prog_get_fd_by_id(int id);

  // --- attachment ----------------------------------------------------------------------------
  int bpf_tc_hook_create(Pointer hook);

  int bpf_tc_hook_destroy(Pointer hook);

  int bpf_tc_attach(Pointer hook, Pointer opts);

  int bpf_tc_detach(Pointer hook, Pointer opts);

  int bpf_tc_query(Pointer hook, Pointer opts);

  int bpf_prog_attach(int progFd, int targetFd, int type, int flags);

  int bpf_prog_detach2(int progFd, int targetFd, int type);

  int bpf_link_create(int progFd, int targetFd, int attachType, Pointer opts);

  int bpf_link_update(int linkFd, int newProgFd, Pointer opts);

  int bpf_link_detach(int linkFd);

  int bpf_prog_test_run_opts(int progFd, Pointer opts);

  // --- ring buffers --------------------------------------------------------------------------
  /** ring_buffer_sample_fn; the Java object must stay strongly referenced while polled. */
  interface SampleCallback {
    @Delegate
    int onSample(Pointer ctx, Pointer data, @size_t long size);
  }

  @SaveError
  Pointer ring_buffer__new(int mapFd, SampleCallback callback, Pointer ctx, Pointer opts);

  int ring_buffer__poll(Pointer rb, int timeoutMs);

  int ring_buffer__consume(Pointer rb);

  void ring_buffer__free(Pointer rb);

  // --- BTF -----------------------------------------------------------------------------------
  @SaveError
  Pointer btf__parse_elf(String path, Pointer btfExt);

  void btf__free(Pointer btf);

  int btf__find_by_name_kind(Pointer btf, String name, int kind);

  Pointer btf__type_by_id(Pointer btf, int id);

  String btf__name_by_offset(Pointer btf, int offset);

  long btf__resolve_size(Pointer btf, int typeId);

  // --- misc ----------------------------------------------------------------------------------
  /**
   * libbpf_print_fn_t: (enum libbpf_print_level, const char *format, va_list). A va_list argument
   * arrives as a pointer on x86_64 and arm64; it is handed to vasprintf unread.
   */
  interface PrintCallback {
    @Delegate
    int print(int level, Pointer format, Pointer args);
  }

  /** Returns the previous print function (ignored: it is libbpf's stderr default). */
  Pointer libbpf_set_print(PrintCallback callback);

  int libbpf_strerror(int err, @Out byte[] buf, @size_t long size);

  int libbpf_num_possible_cpus();
}
