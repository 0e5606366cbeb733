package org.anetd.agent.datapath;

/** L4 protocols by IANA number, as the datapath keys them. */
public enum Protocol {
  ANY(0), ICMP(1), TCP(6), UDP(17), SCTP(132);

  private final int number;

  Protocol(int number) {
    this.number = number;
  }

  public int number() {
    return number;
  }

  public static Protocol of(int number) {
    for (Protocol p : values()) {
      if (p.number == number) {
        return p;
      }
    }
    throw new IllegalArgumentException("unsupported IP protocol " + number);
  }

  /** Parses a Kubernetes protocol name (TCP, UDP, SCTP); null means TCP as in the API. */
  public static Protocol ofKubernetes(String name) {
    if (name == null) {
      return TCP;
    }
    return switch (name) {
      case "TCP" -> TCP;
      case "UDP" -> UDP;
      case "SCTP" -> SCTP;
      default -> throw new IllegalArgumentException(
          "unsupported protocol \"" + name + "\" (expected TCP, UDP or SCTP)");
    };
  }
}
