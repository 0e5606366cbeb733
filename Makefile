# anetd: the two commands a new machine needs are `make lab` and `make test`; both run `make deps`.
SHELL := /bin/bash
MVN ?= mvn
MVN_FLAGS ?= -B -ntp

# Debian packages the build, the tests and the lab need.
APT_PACKAGES := clang llvm libbpf-dev libbpf1 linux-libc-dev bpftool iproute2 iptables nftables \
	iputils-ping socat conntrack python3 ethtool netcat-openbsd jq make gcc libc6-dev procps \
	openjdk-17-jdk-headless maven

.PHONY: deps build ebpf cni test test-unit bench lab clean crds image-context image

# Idempotent and fast when everything is installed: apt runs only for missing packages.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: run as root to install packages" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all packages present"; fi
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpffs /sys/fs/bpf

ebpf: deps
	@$(MAKE) --no-print-directory -C ebpf

# The CNI plugin binary (cni/anetd-cni): small C, no JVM start per pod.
cni: deps
	@$(MAKE) --no-print-directory -C cni

build: deps cni
	$(MVN) $(MVN_FLAGS) -DskipTests package

# The whole suite: unit, kernel (root, real kernel) and end-to-end tests.
test: deps cni
	$(MVN) $(MVN_FLAGS) verify

# JVM-only tests (no root needed).
test-unit:
	@$(MAKE) --no-print-directory -C cni
	$(MVN) $(MVN_FLAGS) verify -DexcludedGroups=kernel

# Regenerates the NetworkLogging CRD from the operator-api classes into deploy/crds/
# (DeployManifestsTest fails while the committed copy differs from the generated one).
crds:
	$(MVN) $(MVN_FLAGS) -q -pl operator-api process-classes
	cp operator-api/target/classes/META-INF/fabric8/networkloggings.networking.gke.io-v1.yml \
		deploy/crds/networkloggings.networking.gke.io.yaml

# The Docker build context for deploy/image/Dockerfile (see docs/install.md). Needs the CNI
# plugin built in cni/ (make -C cni).
IMAGE ?= anetd:0.1.0
IMAGE_CONTEXT := operator/target/image
image-context: build
	@test -x cni/anetd-cni || { echo "image: cni/anetd-cni is missing: build the CNI plugin first (make -C cni)" >&2; exit 1; }
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)
	cp agent/target/anetd-agent-*-all.jar $(IMAGE_CONTEXT)/anetd.jar
	cp operator/target/anetd-operator-*-all.jar $(IMAGE_CONTEXT)/anetd-operator.jar
	cp cni/anetd-cni bin/anetd $(IMAGE_CONTEXT)/

# Builds the image and saves it as a tarball (needs a Docker engine and the debian:12-slim base).
image: image-context
	@docker info >/dev/null 2>&1 || { echo "image: no Docker engine here; the build context is in $(IMAGE_CONTEXT), see docs/install.md" >&2; exit 1; }
	docker build -t $(IMAGE) -f deploy/image/Dockerfile $(IMAGE_CONTEXT)
	docker save -o operator/target/anetd-image.tar $(IMAGE)

bench: build
	bin/anetd-bench

lab: build
	bin/anetd-lab-demo

clean:
	$(MAKE) -C ebpf clean
	$(MAKE) -C cni clean
	$(MVN) $(MVN_FLAGS) -q clean
