#!/usr/bin/env bash
# Installs what the build and the tests need, checking first: cheap to run every time.
#   scripts/install-tools.sh            build tools (wasm target, wasm-pack, wasm-bindgen CLI,
#                                       cargo-modules for make lint, npm deps)
#   scripts/install-tools.sh --browser  also Chromium and ChromeDriver, Firefox ESR and geckodriver, for the browser tests
#   scripts/install-tools.sh --schemathesis  also a Python venv (.venv) with Schemathesis, for the API document's test
#   scripts/install-tools.sh --bench    also wrk, valgrind and twiggy, for make bench
#   scripts/install-tools.sh --cluster  also nginx, for make cluster
#   scripts/install-tools.sh --containers  also podman (runc, netavark, aardvark-dns), podman-compose
#                                       and debootstrap, for make container-test
# redis-server is always checked: `cargo test` runs the fleet's tests on Redis servers of
# its own (with CI set, a missing redis-server fails them rather than skipping them).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
# The newest that builds on the Rust 1.95 the machines have (0.28.0 asks for 1.98).
CARGO_MODULES_VERSION=0.27.0
SCHEMATHESIS_VERSION=4.32.5
# The CLI must match the crate exactly; the crate's pin in Cargo.toml is the one source.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)

say() { printf '==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

have cargo || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }
have node || { echo "node not found: Node.js 20 or newer is required" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "Node.js 20 or newer is required (found $(node --version))" >&2; exit 1; }
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "could not read the wasm-bindgen pin from Cargo.toml" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi


if ! wasm-pack --version 2>/dev/null | grep -qF "$WASM_PACK_VERSION"; then
  say "installing wasm-pack $WASM_PACK_VERSION (about 2 minutes)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -qF "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # No --locked: its lock file pins a crate version the registry here lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# make lint's module graph (scripts/module-cycles.sh): rust-analyzer's crates, built once.
if ! cargo modules --version 2>/dev/null | grep -qF "$CARGO_MODULES_VERSION"; then
  say "installing cargo-modules $CARGO_MODULES_VERSION (rust-analyzer's crates: up to an hour on 2 cores)"
  cargo install cargo-modules --version "$CARGO_MODULES_VERSION" --locked
fi

# npm ci records what it installed; reinstall only when the lock file is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies (binaryen's wasm-opt, playwright-core)"
  npm ci --no-audit --no-fund
fi

if ! have redis-server; then
  say "installing redis-server (the store's tests start their own on free ports)"
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends redis-server
fi

if [ "${1:-}" = "--cluster" ] && ! have nginx; then
  say "installing nginx (the load balancer of make cluster)"
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends nginx
fi

if [ "${1:-}" = "--bench" ] && ! { have wrk && have valgrind; }; then
  say "installing wrk and valgrind (callgrind counts instructions per request)"
  as_root apt-get update
  as_root apt-get install -y wrk valgrind
fi

if [ "${1:-}" = "--bench" ] && ! have twiggy; then
  say "installing twiggy (what each item of the client's wasm costs, about 1 minute)"
  cargo install twiggy --version 0.8.0 --locked
fi

if [ "${1:-}" = "--browser" ] && ! { have chromium && have chromedriver && have firefox-esr; }; then
  say "installing Chromium and ChromeDriver, Firefox ESR"
  as_root apt-get update
  as_root apt-get install -y chromium chromium-driver firefox-esr
fi

# Mozilla's WebDriver server: wasm-pack test --firefox and tests/firefox-page.test.mjs drive
# Firefox through it. Built from crates.io (its prebuilt binaries are downloads).
if [ "${1:-}" = "--browser" ] && ! geckodriver --version 2>/dev/null | grep -qF "$GECKODRIVER_VERSION"; then
  say "installing geckodriver $GECKODRIVER_VERSION (about 3 minutes)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
fi

# Schemathesis, pinned, in a venv of its own, on Python 3.12 or newer where there is one:
# python3.13/python3.12 on PATH, else one that pyenv keeps, else the system's python3. (On
# 3.11 one of its checks was seen to crash on an earlier document of this API, "AST
# constructor recursion depth mismatch"; 3.11.7 passes the current one.)
if [ "${1:-}" = "--schemathesis" ] && ! .venv/bin/schemathesis --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  python=""
  for candidate in python3.13 python3.12 \
    "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3; do
    if "$candidate" -c 'import sys, venv; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "warning: no Python 3.12 or newer found; Schemathesis gets the system's python3 ($(python3 --version 2>&1))" >&2
    python=python3
    "$python" -c 'import venv, ensurepip' 2>/dev/null || { as_root apt-get update && as_root apt-get install -y python3-venv; }
  fi
  say "installing Schemathesis $SCHEMATHESIS_VERSION into .venv ($("$python" --version))"
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Debian's packages. runc: crun refuses hybrid cgroups (make container-test selects runc in its
# own containers.conf). netavark and aardvark-dns: the compose fleet finds its services by
# name. debootstrap: base images made here when no registry is reachable.
if [ "${1:-}" = "--containers" ]; then
  missing=()
  for package in podman runc netavark aardvark-dns iptables podman-compose debootstrap curl; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (make container-test)"
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi
