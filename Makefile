# Meshwork: `make run` and `make test` are all the set-up a fresh Debian 12 machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := run

APT_PACKAGES := libzmq3-dev libopenblas-dev libsqlite3-dev pkg-config iproute2 nftables
SCENARIO ?= scenarios/default.yaml
SWIFT ?= swift
BIN_DIR := $(CURDIR)/bin
# At most this many tests run at once: many of them start whole meshes of processes, and on two
# cores a dozen meshes at a time starve each other's heartbeats (swift-testing's width limit).
TEST_WIDTH ?= 4

.PHONY: deps test-deps build build-debug link run test fuzz fuzz-ci screens bench bench-thresholds bench-mesh clean

# Install the C libraries when any is missing; a warm machine skips apt entirely.
deps:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

# Release build of the CLI; bin/meshwork (and /usr/local/bin/meshwork when writable) point at it.
build: deps
	$(SWIFT) build -c release --product meshwork
	@$(MAKE) --no-print-directory link

# Points bin/meshwork and /usr/local/bin/meshwork at the release build, or the debug one when
# only that exists (after `make test`).
link:
	@target=$(CURDIR)/.build/release/meshwork; [ -x $$target ] || target=$(CURDIR)/.build/debug/meshwork; \
	mkdir -p $(BIN_DIR) && ln -sf $$target $(BIN_DIR)/meshwork; \
	if [ -w /usr/local/bin ]; then ln -sf $(BIN_DIR)/meshwork /usr/local/bin/meshwork; fi

build-debug: deps
	$(SWIFT) build

run: build
	$(BIN_DIR)/meshwork up $(SCENARIO)

# What the tests need beyond the build: headless Chromium (the oversight page's browser test) and
# Python's prometheus_client (parses /metrics) and pyzmq (examples/python-agent joins a live mesh).
# Installed only when missing; the browser and Python-agent tests skip with a message when theirs
# cannot be installed.
test-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing: chromium"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		( $$sudo apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends chromium ) \
		|| echo "warning: chromium could not be installed; the browser test will be skipped"; \
	fi
	@python3 -c 'import prometheus_client' 2>/dev/null || \
		python3 -m pip install --quiet prometheus_client 2>/dev/null || \
		python3 -m pip install --quiet --break-system-packages prometheus_client
	@python3 -c 'import zmq' 2>/dev/null || \
		python3 -m pip install --quiet pyzmq 2>/dev/null || \
		python3 -m pip install --quiet --break-system-packages pyzmq || \
		echo "warning: pyzmq could not be installed; the Python agent tests will be skipped"

test: deps test-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) $(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory fuzz-ci
	@$(MAKE) --no-print-directory link

# libFuzzer targets, one per decoder (Fuzz/, a package of its own; docs/FUZZING.md): builds them
# (release, --sanitize=fuzzer), replays the saved crash inputs of Fuzz/Crashes/, then fuzzes each
# target for FUZZ_SECONDS from its committed corpus. Fails on a build failure or any crash.
FUZZ_SECONDS ?= 60
fuzz: deps
	SWIFT=$(SWIFT) scripts/fuzz.sh $(FUZZ_SECONDS)

# The short run that `make test` (and so CI) ends with: the same, FUZZ_CI_SECONDS per target.
FUZZ_CI_SECONDS ?= 3
fuzz-ci: deps
	SWIFT=$(SWIFT) scripts/fuzz.sh $(FUZZ_CI_SECONDS)

# A PNG of every oversight page of a run (RUN=runs/<id>, default the newest) in RUN/screens/.
RUN ?= $(shell ls -dt runs/*/ 2>/dev/null | head -1)
screens: test-deps
	@[ -n "$(RUN)" ] || { echo "no run: make run first, or RUN=runs/<id>"; exit 2; }
	@[ -x $(BIN_DIR)/meshwork ] || $(MAKE) --no-print-directory build
	@set -e; out=$$(mktemp); $(BIN_DIR)/meshwork serve $(RUN) > $$out 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; rm -f $$out' EXIT; \
	for i in $$(seq 100); do grep -q '^oversight: ' $$out && break; sleep 0.1; done; \
	url=$$(sed -n 's/^oversight: \(http[^ ]*\)\/ .*/\1/p' $$out); \
	[ -n "$$url" ] || { cat $$out; exit 1; }; \
	python3 Tests/MeshOversightTests/scripts/oversight_client.py screens $$url $(RUN)/screens

# package-benchmark suites (Benchmarks/, a package of its own so `make test` never builds
# package-benchmark): codec, state machines, journal, blob hashing, sgemm, MLP epoch, int8 vs fp32.
# Fails (exit 2) when a figure regressed past its tolerance from the checked-in Benchmarks/Thresholds.
# OpenBLAS 0.3.21 falls back to its SSE3 kernels on this CPU unless told (docs/COMPUTE.md), so the
# suites run with the AVX-512 (or AVX2) kernel `meshwork` itself would pick. Exit 4 means "only
# improvements", which is not a failure.
BENCH_BLAS := $$(if [ -n "$$OPENBLAS_CORETYPE" ]; then echo "$$OPENBLAS_CORETYPE"; \
	elif grep -qw avx512dq /proc/cpuinfo; then echo SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then echo Haswell; fi)

bench: deps
	cd Benchmarks && OPENBLAS_CORETYPE=$(BENCH_BLAS) $(SWIFT) package benchmark thresholds check --no-progress \
		|| [ $$? -eq 4 ]

# Rewrites Benchmarks/Thresholds from a fresh run (after an intended change; commit the result).
bench-thresholds: deps
	cd Benchmarks && OPENBLAS_CORETYPE=$(BENCH_BLAS) \
		$(SWIFT) package --allow-writing-to-package-directory benchmark thresholds update --no-progress

# The whole mesh, every figure of docs/BENCHMARKS.md beside its same-run limit (about 5 minutes).
bench-mesh: build
	$(BIN_DIR)/meshwork bench

clean:
	rm -rf .build bin Benchmarks/.build Fuzz/.build
