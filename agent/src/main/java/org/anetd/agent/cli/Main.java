package org.anetd.agent.cli;

public final class Main {
  public static void main(String[] args) {
  }
}
