#!/usr/bin/env bash
# Runs a command beside a fresh video-translation-server on a free loopback port, whose URL
# the command finds in VTS_TEST_URL; the server stops when the command ends.
#   scripts/with-server.sh wasm-pack test --headless --chrome --mode no-install client-wasm
set -euo pipefail
cd "$(dirname "$0")/.."

server=${VTS_SERVER_BIN:-target/debug/video-translation-server}
[ -x "$server" ] || { echo "no server binary at $server: run cargo build -p video-translation-server" >&2; exit 1; }

out=$(mktemp)
"$server" --bind 127.0.0.1:0 --delay 5 >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT

# The server prints "... listening on http://127.0.0.1:PORT" once it is bound.
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "the server exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the server did not report its address within 10 s" >&2; exit 1; }

echo "server for tests at $url"
VTS_TEST_URL=$url "$@"
