/**
 * picocli commands: {@code anetd agent|bpf|config|version ...}. Commands stay thin: parse, call
 * into a room, print. This is the top of the dependency graph; nothing depends on it.
 */
package org.anetd.agent.cli;
