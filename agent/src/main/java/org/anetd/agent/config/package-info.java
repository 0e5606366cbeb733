/**
 * Agent configuration from the {@code cilium-config} ConfigMap (room: config).
 *
 * <p>Entry point: {@link org.anetd.agent.config.ConfigParser#parse} turns ConfigMap data into a
 * {@link org.anetd.agent.config.ConfigResult}: a typed, immutable
 * {@link org.anetd.agent.config.AgentConfig} or a rejection listing every invalid value. {@link
 * org.anetd.agent.config.ConfigHolder} keeps the last good config in force when a new one is
 * rejected (a bad edit never falls back to defaults), and {@link
 * org.anetd.agent.config.ConfigDirectoryWatcher} feeds it from a mounted ConfigMap directory.
 * Every supported key is a {@link org.anetd.agent.config.ConfigKey}; docs/configuration.md
 * documents each one, and a test keeps the two in step.
 *
 * {@link org.anetd.agent.config.LastAcceptedConfig} saves each accepted version on the node, so an
 * agent restarted while the ConfigMap is rejected runs that version rather than the defaults.
 *
 * <p>Parsing is pure; file I/O lives only in {@link org.anetd.agent.config.DirectoryConfigSource},
 * the watcher, {@link org.anetd.agent.config.LastAcceptedConfig} and {@link
 * org.anetd.agent.config.EphemeralPortRangeReader}.
 *
 * <p>Dependencies: cli -> config. This package depends on nothing else in the agent (only the JDK
 * and SLF4J), so every other room may read an {@code AgentConfig}.
 */
package org.anetd.agent.config;
