/**
 * The running agent: wires config, the cluster state source, the compilers and the map writers
 * into one loop (snapshot -> compile -> write), and serves metrics and health. Like Cilium's
 * daemon/cmd, it is the only room that knows all the others; no room depends on it except cli.
 * Entry points: {@link org.anetd.agent.daemon.Agent} and {@link org.anetd.agent.daemon.Reconciler}.
 */
package org.anetd.agent.daemon;
