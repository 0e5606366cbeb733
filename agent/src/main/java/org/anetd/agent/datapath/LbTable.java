package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The service table as {@code anetd bpf lb list} prints it (like {@code cilium bpf lb list}): one
 * line per frontend master, then one per backend slot, with backend state.
 */
public final class LbTable {
  private LbTable() {}

  public static String render(Map<Lb4Key, Lb4Service> services, Map<Long, Lb4Backend> backends) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("%-26s %-34s %s%n", "SERVICE ADDRESS", "BACKEND ADDRESS", "(REVNAT_ID) (SLOT) FLAGS"));
    List<Lb4Key> masters = new ArrayList<>(services.keySet().stream()
        .filter(k -> k.slot() == 0).toList());
    masters.sort(Comparator.comparing(Lb4Key::address).thenComparingInt(Lb4Key::port)
        .thenComparing(Lb4Key::protocol).thenComparingInt(Lb4Key::scope));
    for (Lb4Key master : masters) {
      Lb4Service m = services.get(master);
      String frontend = master.address() + ":" + master.port() + "/" + master.protocol()
          + (master.scope() == Lb4Key.SCOPE_INTERNAL ? " (int)" : "");
      out.append(String.format("%-26s %-34s (%d) (0) %s%n", frontend, "0.0.0.0:0", m.revNatId(),
          flags(m)));
      for (int slot = 1; slot <= m.count(); slot++) {
        Lb4Service s = services.get(master.withSlot(slot));
        String backend;
        if (s == null) {
          backend = "<slot missing>";
        } else {
          Lb4Backend b = backends.get(s.backendId());
          backend = b == null ? "<backend " + s.backendId() + " missing>"
              : b.address() + ":" + b.port() + "/" + b.protocol()
                  + (b.state() == Lb4Backend.STATE_TERMINATING ? " (terminating)" : " (active)");
        }
        out.append(String.format("%-26s %-34s (%d) (%d)%n", "", backend, m.revNatId(), slot));
      }
    }
    return out.toString();
  }

  static String flags(Lb4Service m) {
    List<String> f = new ArrayList<>();
    if ((m.flags() & Lb4Service.F_NODEPORT) != 0) {
      f.add("NodePort");
    } else if ((m.flags() & Lb4Service.F_EXTERNAL) != 0) {
      f.add("External");
    } else {
      f.add("ClusterIP");
    }
    if ((m.flags() & Lb4Service.F_AFFINITY) != 0) {
      f.add("sessionAffinity=" + m.backendId() + "s");
    }
    if ((m.flags() & Lb4Service.F_ETP_LOCAL) != 0) {
      f.add("externalTrafficPolicy=Local");
    }
    if ((m.flags() & Lb4Service.F_ITP_LOCAL) != 0) {
      f.add("internalTrafficPolicy=Local");
    }
    if ((m.flags() & Lb4Service.F_NO_BACKENDS) != 0 || m.count() == 0) {
      f.add("no-backends(reject)");
    }
    return "[" + String.join(", ", f) + "]";
  }
}
