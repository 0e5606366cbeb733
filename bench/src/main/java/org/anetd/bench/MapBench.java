package org.anetd.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lb4Backend;
import org.anetd.agent.datapath.Lb4BackendCodec;
import org.anetd.agent.datapath.Protocol;

/**
 * Map operations through the Java bridge against the same operations as raw syscalls from C
 * (bench/native/map_bench), in one run, on maps of the same shape (lb4_backends). Reports
 * ops/s and the bridge/raw ratio to bench/results/bridge.{md,json}.
 *
 * <p>Usage: MapBench NATIVE_BINARY RESULTS_DIR [N] [ROUNDS]
 */
public final class MapBench {
  private MapBench() {}

  public static void main(String[] args) throws Exception {
    Path nativeBench = Path.of(args[0]);
    Path results = Path.of(args[1]);
    int n = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;

    Map<String, Double> raw = runNative(nativeBench, n, rounds);
    Map<String, Double> bridge = runBridge(n, rounds);

    Files.createDirectories(results);
    StringBuilder json = new StringBuilder("{\n  \"elements\": " + n + ", \"rounds\": " + rounds
        + ",\n");
    StringBuilder md = new StringBuilder("# Map operations: Java bridge vs raw syscalls\n\n"
        + "Same run, same machine, hash map shaped like `lb4_backends` (4-byte key, 8-byte value),"
        + " " + n + " elements, best of " + rounds + " rounds.\n\n"
        + "| operation | bridge ops/s | raw syscalls ops/s (C) | bridge / raw |\n|---|---|---|---|\n");
    List<String> ops = List.of("update_ops_per_s", "lookup_ops_per_s", "batch_update_ops_per_s");
    for (int i = 0; i < ops.size(); i++) {
      String op = ops.get(i);
      double b = bridge.get(op);
      double r = raw.get(op);
      md.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %.2fx |%n",
          op.replace("_ops_per_s", "").replace('_', ' '), b, r, b / r));
      json.append(String.format(Locale.ROOT, "  \"%s\": {\"bridge\": %.0f, \"raw\": %.0f,"
          + " \"ratio\": %.3f}%s%n", op, b, r, b / r, i + 1 < ops.size() ? "," : ""));
    }
    double batchSpeedup = bridge.get("batch_update_ops_per_s") / bridge.get("update_ops_per_s");
    md.append(String.format(Locale.ROOT, "%nBatch vs single update through the bridge: %.1fx.%n",
        batchSpeedup));
    json.append("}\n");
    Files.writeString(results.resolve("bridge.md"), md);
    Files.writeString(results.resolve("bridge.json"), json);
    System.out.print(md);
  }

  private static Map<String, Double> runNative(Path binary, int n, int rounds)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(binary.toString(), "" + n, "" + rounds).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("native baseline failed: " + out);
    }
    Map<String, Double> m = new java.util.HashMap<>();
    Matcher matcher = Pattern.compile("\"(\\w+)\": ([0-9.]+)").matcher(out);
    while (matcher.find()) {
      m.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
    }
    return m;
  }

  private static Map<String, Double> runBridge(int n, int rounds) throws IOException {
    Path pins = Path.of("/sys/fs/bpf/anetd-bench-" + ProcessHandle.current().pid());
    Files.createDirectories(pins);
    try (BpfObject obj = BpfObject.openResource("bpf_lxc.o")) {
      obj.setMaxEntries("anetd_lb4_backends", n).pinMapsUnder(pins).load();
      BpfMap map = obj.map("anetd_lb4_backends");
      List<byte[]> keys = new ArrayList<>(n);
      List<byte[]> values = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        keys.add(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(i + 1).array());
        values.add(Lb4BackendCodec.INSTANCE.encode(new Lb4Backend(new Ipv4(0xC6120000 | i), 8080,
            Protocol.TCP, Lb4Backend.STATE_ACTIVE)));
      }
      double bestUpdate = 0;
      double bestLookup = 0;
      double bestBatch = 0;
      for (int r = 0; r < rounds + 1; r++) { // the first round warms the JIT and is discarded
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          map.update(keys.get(i), values.get(i));
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          map.lookup(keys.get(i));
        }
        long t2 = System.nanoTime();
        map.updateBatch(keys, values);
        long t3 = System.nanoTime();
        if (r > 0) {
          bestUpdate = Math.max(bestUpdate, n / ((t1 - t0) / 1e9));
          bestLookup = Math.max(bestLookup, n / ((t2 - t1) / 1e9));
          bestBatch = Math.max(bestBatch, n / ((t3 - t2) / 1e9));
        }
      }
      return Map.of("update_ops_per_s", bestUpdate, "lookup_ops_per_s", bestLookup,
          "batch_update_ops_per_s", bestBatch);
    } finally {
      try (var files = Files.list(pins)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(pins);
    }
  }
}
