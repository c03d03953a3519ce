# The two commands of the README: `make demo` and `make test`. Each installs what is missing.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

DEMO_BIND ?= 127.0.0.1:8080
SERVER_DEBUG := target/debug/video-translation-server
SERVER_RELEASE := target/release/video-translation-server

.PHONY: help demo cluster test lint bench tools browser-tools bench-tools cluster-tools schemathesis-tools pkg test-rust test-docs test-wasm test-e2e test-everywhere clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: tools pkg ## Build the package and the server, serve the demo on http://127.0.0.1:8080
	cargo build --release -p video-translation-server
	@echo "Demo page: http://$(DEMO_BIND)/   (Ctrl-C stops the server)"
	$(SERVER_RELEASE) --bind $(DEMO_BIND)

cluster: tools cluster-tools pkg ## Redis, three replicas and nginx on http://127.0.0.1:8080 (Ctrl-C stops them)
	cargo build --release -p video-translation-server
	scripts/cluster.sh

test: lint browser-tools cluster-tools schemathesis-tools pkg test-rust test-docs test-wasm test-e2e container-test ## Run every test (lint first)
	@echo "All test suites passed."

lint: tools ## Format and lint checks: rustfmt, clippy (native and wasm32), no module import circle, ESLint
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p video-translation-client --target wasm32-unknown-unknown --all-targets -- -D warnings
	scripts/module-cycles.sh
	node_modules/.bin/eslint .

bench: tools bench-tools browser-tools pkg ## Benchmarks (about 2 h; the polling table 95 min of it): package size, polling, many jobs, pages, watch CPU, watch fan-out, stream fan-out, server, load, pipelining, fleet
	cargo build --release -p video-translation-server --bin video-translation-server --examples
	node bench/package-size.mjs
	VTS_SERVER_BIN=$(SERVER_RELEASE) node bench/polling.mjs
	VTS_SERVER_BIN=$(SERVER_RELEASE) node bench/many-jobs.mjs
	VTS_SERVER_BIN=$(SERVER_RELEASE) node bench/pages.mjs
	node bench/watch-cpu.mjs
	node bench/watch-fanout.mjs
	node bench/stream-fanout.mjs
	node bench/server.mjs
	node bench/load.mjs
	node bench/pipeline-flood.mjs
	node bench/fleet.mjs

tools: ## Install the build tools that are missing
	scripts/install-tools.sh

browser-tools: ## Install Chromium and ChromeDriver, Firefox ESR and geckodriver if missing
	scripts/install-tools.sh --browser

schemathesis-tools: ## Install Schemathesis (pinned) into .venv if missing
	scripts/install-tools.sh --schemathesis

cluster-tools: ## Install redis-server and nginx if missing
	scripts/install-tools.sh --cluster

bench-tools: ## Install wrk and valgrind if missing
	scripts/install-tools.sh --bench

pkg: tools ## Build the npm package into client-wasm/pkg
	scripts/build-pkg.sh

test-rust: tools ## cargo tests: the poller, the protocol, the server's handlers, the store on memory and on Redis
	cargo test --workspace

test-docs: tools ## cargo doc for every crate (and the wasm API), warnings as errors
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
	RUSTDOCFLAGS="-D warnings" cargo doc -p video-translation-client --no-deps --target wasm32-unknown-unknown

test-wasm: tools browser-tools ## wasm-pack test in headless Chromium and Firefox against a real server
	cargo build -p video-translation-server
	scripts/with-server.sh wasm-pack test --headless --chrome --mode no-install client-wasm
	# Firefox's preferences keep it off the network but for loopback (the fixture says how).
	WASM_BINDGEN_TEST_WEBDRIVER_JSON=$(CURDIR)/tests/fixtures/firefox-webdriver.json \
	  scripts/with-server.sh wasm-pack test --headless --firefox --mode no-install client-wasm

test-e2e: browser-tools cluster-tools schemathesis-tools pkg ## node:test suites: real server binary, real package, Node, Deno, Bun, bundlers, TypeScript, Chromium, Firefox, a fleet behind nginx, Schemathesis
	cargo build -p video-translation-server
	# The files by name: Node 21 and later read a directory argument differently (nodejs/node#50219).
	node --test --test-concurrency=1 tests/*.test.mjs

test-everywhere: browser-tools schemathesis-tools pkg ## Only the suites of where it runs: runtimes, bundlers, TypeScript, Firefox, Schemathesis
	cargo build -p video-translation-server
	node --test --test-concurrency=1 tests/runtimes.test.mjs tests/bundlers.test.mjs tests/typescript.test.mjs tests/firefox-page.test.mjs tests/schemathesis.test.mjs

.PHONY: container-tools container-test container-image

container-tools: ## Install podman, runc, podman-compose and debootstrap if missing
	scripts/install-tools.sh --containers

container-test: container-tools pkg ## The image (from the binary built here) and the compose fleet, with podman (a few min)
	cargo build -p video-translation-server
	scripts/container-test.sh

container-image: container-tools ## The Dockerfile's full multi-stage build (about 40 min on 2 cores), its time and size
	scripts/container-image.sh

clean: ## Remove build output
	cargo clean
	rm -rf client-wasm/pkg node_modules tests/.artifacts .venv
