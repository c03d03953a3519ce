#!/usr/bin/env bash
# `make cluster`: Redis, three replicas (--store redis://...) and nginx in front of them on
# http://127.0.0.1:8080, in the foreground. Ctrl-C (or SIGTERM) stops all of them. Redis keeps
# its data (append-only file) in target/cluster/redis/, so jobs outlive a restart of the whole.
#   CLUSTER_REDIS_PORT (default 6390): Redis's port, away from a system Redis on 6379.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${VTS_SERVER_BIN:-target/release/video-translation-server}
redis_port=${CLUSTER_REDIS_PORT:-6390}
replica_ports=(8081 8082 8083) # as listed in cluster/nginx.conf
run=target/cluster

[ -x "$server" ] || { echo "no server binary at $server: run cargo build --release -p video-translation-server" >&2; exit 1; }
for tool in redis-server nginx; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/install-tools.sh --cluster" >&2; exit 1; }
done
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$redis_port" "${replica_ports[@]}" 8080; do
  port_free "$port" || { echo "127.0.0.1:$port is taken: stop what listens there first" >&2; exit 1; }
done
mkdir -p "$run/redis" "$run/nginx/tmp"

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping the cluster"
  # Last started, first stopped: nginx, the replicas (they answer held requests first), Redis.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop INT TERM EXIT

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$PWD/$run/redis" \
  --appendonly yes --save "" --loglevel warning &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
  sleep 0.1
done

for port in "${replica_ports[@]}"; do
  RUST_LOG=${RUST_LOG:-warn} "$server" --bind "127.0.0.1:$port" --store "redis://127.0.0.1:$redis_port" \
    --trusted-proxy 127.0.0.1 &
  pids+=($!)
done

nginx -p "$PWD/$run/nginx/" -c "$PWD/cluster/nginx.conf" -e stderr &
pids+=($!)

for _ in $(seq 100); do
  node -e 'fetch("http://127.0.0.1:8080/readyz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' && break
  sleep 0.1
done
echo "Cluster: http://127.0.0.1:8080/ (nginx) -> replicas on ${replica_ports[*]} -> Redis on $redis_port   (Ctrl-C stops it)"
# Until Ctrl-C, or until any of them exits on its own (then everything stops).
wait -n "${pids[@]}" || true
