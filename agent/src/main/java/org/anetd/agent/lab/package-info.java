/**
 * {@code anetd lab}: a Kubernetes cluster on one machine. An embedded API server (fabric8's CRUD
 * mock server, or a real one through a kubeconfig), lab nodes as network namespaces each served by
 * a real {@link org.anetd.agent.daemon.Agent} in this process, a lab kubelet that turns pods into
 * network namespaces through the real CNI plugin binary and runs an echo server in each, and lab
 * controllers doing what kube-controller-manager and kube-scheduler would.
 *
 * <p>Entry points: {@link org.anetd.agent.lab.Lab} (up and its teardown), {@link
 * org.anetd.agent.lab.LabDown}, {@link org.anetd.agent.lab.LabProbe}. Decisions are pure and
 * unit-tested: {@link org.anetd.agent.lab.Allocators}, {@link org.anetd.agent.lab.SliceDesign},
 * {@link org.anetd.agent.lab.DeploymentExpander}, {@link org.anetd.agent.lab.ProbeTarget}. The lab
 * depends on daemon and endpoint (it starts agents and runs the plugin); nothing depends on it
 * except cli.
 */
package org.anetd.agent.lab;
