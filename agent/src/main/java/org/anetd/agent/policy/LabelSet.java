package org.anetd.agent.policy;

import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The security labels of one identity, sorted. Prefixes keep the sources apart: {@code k8s:} pod
 * labels (plus {@code k8s:io.kubernetes.pod.namespace=NAME}), {@code ns:} namespace labels,
 * {@code cidr:} policy ipBlocks the addresses match (see {@link IpBlock#label()}).
 */
public record LabelSet(SortedSet<String> labels) implements Comparable<LabelSet> {
  public static final String NAMESPACE_LABEL = "io.kubernetes.pod.namespace";

  public LabelSet {
    labels = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(labels));
  }

  /** A pod: its labels, its namespace's name and labels, and the ipBlocks its IP falls in. */
  public static LabelSet ofPod(String namespace, Map<String, String> podLabels,
      Map<String, String> namespaceLabels, Collection<IpBlock> blocks) {
    TreeSet<String> l = new TreeSet<>();
    podLabels.forEach((k, v) -> l.add("k8s:" + k + "=" + v));
    l.add("k8s:" + NAMESPACE_LABEL + "=" + namespace);
    namespaceLabels.forEach((k, v) -> l.add("ns:" + k + "=" + v));
    blocks.forEach(b -> l.add(b.label()));
    return new LabelSet(l);
  }

  /** Addresses outside the cluster that match exactly these ipBlocks. */
  public static LabelSet ofCidr(Collection<IpBlock> blocks) {
    TreeSet<String> l = new TreeSet<>();
    blocks.forEach(b -> l.add(b.label()));
    return new LabelSet(l);
  }

  @Override
  public int compareTo(LabelSet o) {
    Iterator<String> a = labels.iterator();
    Iterator<String> b = o.labels.iterator();
    while (a.hasNext() && b.hasNext()) {
      int c = a.next().compareTo(b.next());
      if (c != 0) {
        return c;
      }
    }
    return Boolean.compare(a.hasNext(), b.hasNext());
  }

  @Override
  public String toString() {
    return labels.toString();
  }
}
