#!/usr/bin/env bash
# Fails when a module of the workspace's crates imports, directly or through others, a module
# that imports it (run by `make lint`). A parent and its child count like any two modules: a
# mod.rs that re-exports its children holds no definitions they use.
#
# cargo-modules (pinned, installed by scripts/install-tools.sh) resolves every `use`, and every
# type in a signature or a field, to the item it names, through re-exports; with functions,
# types and traits filtered out it folds each item's edges into the module that owns it, so
# its graph is module to module. tsort then finds any loop in it. Its own `--acyclic` is not
# that check: it looks for loops among items before any folding, and a type and its method
# (`JobResult` and `JobResult::as_str`) are such a loop, so it fails every crate here.
#
# What it does not see (cargo-modules 0.27 draws no edge for them): an imported const, static
# or macro; a path written out inside a function body (`crate::a::f()` with no `use`); a
# method called on another module's type; and `#[cfg(test)]` modules (nothing imports them,
# so they close no loop).
#
#   scripts/module-cycles.sh    every crate, the client also as built for wasm32 (its JS API)
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
check() {
  local dot edges loop
  dot=$(cargo modules dependencies "$@" --lib --layout dot \
    --no-externs --no-sysroot --no-fns --no-types --no-traits --no-owns)
  [[ $dot == *digraph* ]] || { echo "cargo modules printed no graph for $*" >&2; exit 1; }
  edges=$(sed -n 's/^ *"\([^"]*\)" -> "\([^"]*\)" .*\/\/ "uses" edge$/\1 \2/p' <<<"$dot")
  if loop=$(tsort <<<"$edges" 2>&1 >/dev/null); then
    echo "no module import circle: $*"
  else
    echo "module import circle in $*: each loop below is modules that import each other" >&2
    sed -e 's/^tsort: .*input contains a loop:$/  loop:/' -e 's/^tsort: /    /' <<<"$loop" >&2
    status=1
  fi
}

check --package video-translation-protocol
check --package video-translation-server
check --package video-translation-client
check --package video-translation-client --target wasm32-unknown-unknown
exit $status
