#!/usr/bin/env bash
# `make container-test`: the image alone and the compose fleet, with podman.
#
# Builds the Dockerfile's `prebuilt` target from the server binary `make test` already
# compiled (VTS_SERVER_BIN, default the debug one) and the npm package in client-wasm/pkg, so
# it compiles nothing. The base images are the official ones when a registry answers, else
# made here with debootstrap and `podman import` (their root filesystems are kept in
# target/container-rootfs/ for the next run). Then:
#   - the server alone: health check, /status, the demo page, the package, a job to
#     completion, the VTS_* environment, a non-root user, and `podman stop` answering a held
#     long-poll at once and exiting cleanly;
#   - the fleet of compose.yaml (Redis, three replicas, nginx): a job created through nginx is
#     read through every replica, a replica stopped while requests flow stalls none of them,
#     and every job is kept across `down` and `up`.
# Requests go to 127.0.0.1 (published ports) and to the compose network this script creates.
# Everything it made (containers, images, network, volume) is removed at the end, whatever
# happened; VTS_CONTAINER_KEEP=1 keeps them for a look. The last line is "N passed, N failed".
#
#   VTS_SERVER_BIN        the binary to put in the image (target/debug/video-translation-server)
#   VTS_CONTAINER_BASE    auto (default) | local | registry: where the base images come from
#   VTS_DEBIAN_MIRROR     debootstrap's mirror (http://deb.debian.org/debian)
set -uo pipefail
cd "$(dirname "$0")/.."
# debootstrap, and reaching the containers' addresses on their bridge, need rootful podman.
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env PATH="$PATH" "$0" "$@"

started=$SECONDS
server_bin=${VTS_SERVER_BIN:-target/debug/video-translation-server}
work=target/container-test
run_id=vtstest$$
server_image=localhost/$run_id/video-translation-server:test
solo=$run_id-solo
project=$run_id
made_images=() # what cleanup removes

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; if [ -n "${2:-}" ]; then printf '       %s\n' "$2"; fi; }
# check NAME COMMAND...: one test, passed when the command succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
say() { printf '==> %s\n' "$*"; }

# req METHOD URL [curl args]: sets $status and $body (status 000: no answer).
req() {
  local method=$1 url=$2 out
  shift 2
  out=$(curl -s --max-time "${REQ_TIMEOUT:-15}" -X "$method" -w '\n%{http_code}' "$@" "$url") || true
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "$body" != "$out" ] || body=
}
# json EXPR: a field of the JSON on stdin, as in `json .result` or `json '.error.code'`.
json() { node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{let v;try{v=new Function("o","return o"+process.argv[1])(JSON.parse(s))}catch{v=undefined}process.stdout.write(v===undefined?"":typeof v==="object"?JSON.stringify(v):String(v))})' "$1"; }
# wait_for URL SECONDS: until GET URL answers 200.
wait_for() {
  local url=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    REQ_TIMEOUT=2 req GET "$url"
    [ "$status" = 200 ] && return 0
    sleep 0.3
  done
  return 1
}
# lt A B: A < B, for decimals.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

compose() {
  VTS_IMAGE=$server_image REDIS_IMAGE=$redis_image NGINX_IMAGE=$nginx_image VTS_PORT=$fleet_port \
    VTS_DELAY=3 podman-compose -p "$project" -f compose.yaml "$@" >>"$work/compose.log" 2>&1
}

cleanup() {
  trap - EXIT INT TERM
  if [ "${VTS_CONTAINER_KEEP:-0}" = 1 ]; then
    say "kept: containers $solo and ${project}_*, images ${made_images[*]}"
  else
    say "removing what this run made"
    [ -n "${fleet_port:-}" ] && compose down -v
    podman rm -f -t 2 "$solo" >/dev/null 2>&1
    local leftover
    leftover=$(podman ps -a --format '{{.Names}}' | grep "^${project}_" || true)
    [ -z "$leftover" ] || podman rm -f -t 2 $leftover >/dev/null 2>&1
    podman network rm -f "${project}_default" >/dev/null 2>&1
    podman volume rm -f "${project}_redis-data" >/dev/null 2>&1
    [ ${#made_images[@]} -eq 0 ] || podman rmi -f "${made_images[@]}" >/dev/null 2>&1
    rm -rf "$work/context"
    local left=()
    podman ps -a --format '{{.Names}}' | grep -q "^$run_id" && left+=(containers)
    podman network ls --format '{{.Name}}' | grep -q "^$run_id" && left+=(networks)
    podman volume ls --format '{{.Name}}' | grep -q "^$run_id" && left+=(volumes)
    podman images --format '{{.Repository}}' | grep -q "^localhost/$run_id/" && left+=(images)
    if [ ${#left[@]} -eq 0 ]; then ok "cleanup: no container, image, network or volume of this run is left"
    else bad "cleanup: left ${left[*]}"; fi
  fi
  echo "container test took $((SECONDS - started)) s"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
# A setup step failed: nothing after it can run.
give_up() { bad "$1" "${2:-}"; cleanup; }
trap cleanup EXIT
trap 'bad "interrupted"; cleanup' INT TERM

for tool in podman podman-compose curl node; do
  command -v "$tool" >/dev/null || give_up "$tool is missing: run scripts/install-tools.sh --containers"
done
[ -x "$server_bin" ] || give_up "no server binary at $server_bin: run cargo build -p video-translation-server"
[ -f client-wasm/pkg/package.json ] || give_up "no npm package in client-wasm/pkg: run make pkg"
mkdir -p "$work"
: >"$work/compose.log"
: >"$work/podman.log"

source scripts/container-lib.sh
use_own_containers_conf

# --- base images -------------------------------------------------------------------------

base=${VTS_CONTAINER_BASE:-auto}
if [ "$base" != local ]; then
  say "asking the registry for the official base images"
  if timeout 60 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>"$work/pull.log" &&
    timeout 120 podman pull -q docker.io/library/redis:7-bookworm >/dev/null 2>>"$work/pull.log" &&
    timeout 120 podman pull -q docker.io/library/nginx:1.27-bookworm >/dev/null 2>>"$work/pull.log"; then
    runtime_base=docker.io/library/debian:bookworm-slim
    redis_image=docker.io/library/redis:7-bookworm
    nginx_image=docker.io/library/nginx:1.27-bookworm
  elif [ "$base" = registry ]; then
    give_up "pulling the official base images" "$(tail -n 1 "$work/pull.log")"
  else
    say "no registry: $(tail -n 1 "$work/pull.log" | cut -c1-160)"
    base=local
  fi
fi
if [ "$base" = local ]; then
  say "making the base images here (debootstrap, 1 to 3 min, once: then kept in $rootfs_dir)"
  t0=$SECONDS
  rootfs debian >"$work/rootfs-debian.out" 2>&1 &
  debian_pid=$!
  # One image for both Redis and nginx: Debian's packages, in the place the official images
  # have them (redis-server and nginx on PATH, the config as mounted by compose.yaml).
  rootfs fleet redis-server,nginx-light >"$work/rootfs-fleet.out" 2>&1 ||
    give_up "debootstrap of Redis and nginx" "$(cat "$work/rootfs-fleet.out")"
  wait "$debian_pid" || give_up "debootstrap of Debian" "$(cat "$work/rootfs-debian.out")"
  runtime_base=localhost/$run_id/debian:bookworm-slim
  redis_image=localhost/$run_id/fleet:bookworm
  nginx_image=$redis_image
  podman import -q "$rootfs_dir/debian.tar" "$runtime_base" >/dev/null &&
    made_images+=("$runtime_base") &&
    podman import -q --change 'CMD ["bash"]' "$rootfs_dir/fleet.tar" "$redis_image" >/dev/null &&
    made_images+=("$redis_image") || give_up "podman import of the base images"
  say "base images ready in $((SECONDS - t0)) s"
fi

# --- the build context ------------------------------------------------------------------

# What `docker build .` sends from here, through .dockerignore: copied into an empty image.
printf 'FROM scratch\nCOPY . /context\n' >"$work/context.Dockerfile"
context_image=localhost/$run_id/context:test
if podman build --layers=false -f "$work/context.Dockerfile" -t "$context_image" . >"$work/context.log" 2>&1; then
  made_images+=("$context_image")
  container=$(podman create --entrypoint /none "$context_image")
  podman export "$container" | tar -t >"$work/context.txt"
  podman rm "$container" >/dev/null
  context_mb=$(podman image inspect -f '{{.Size}}' "$context_image" | awk '{ printf "%.1f", $1 / 1e6 }')
  strays=$(grep -E '^context/(\.git|target/(debug|release/(build|deps))|node_modules|tests|bench)/' "$work/context.txt" | head -n 3 | tr '\n' ' ')
  check "the build context is small: $context_mb MB, $(wc -l <"$work/context.txt") entries${strays:+; strays: $strays}" \
    eval '[ -z "$strays" ] && lt "$context_mb" 30'
else
  bad "building an image of the build context" "$(tail -n 3 "$work/context.log")"
fi

# --- the image ---------------------------------------------------------------------------

say "building the image from $server_bin and client-wasm/pkg (Dockerfile target prebuilt)"
# A context of just what the prebuilt target copies (hard links: no copying), instead of the
# repository with its gigabytes of target/.
rm -rf "$work/context"
mkdir -p "$work/context/bin" "$work/context/client-wasm"
cp -l "$server_bin" "$work/context/bin/video-translation-server" 2>/dev/null ||
  cp "$server_bin" "$work/context/bin/video-translation-server"
cp -rl www containers "$work/context/" && cp -rl client-wasm/pkg "$work/context/client-wasm/" &&
  cp Dockerfile "$work/context/" || give_up "staging the build context"
t0=$SECONDS
# docker format: OCI images have no HEALTHCHECK. No layer cache: nothing left behind but the image.
# The unused stages' bases are pointed at the runtime base so that nothing is pulled for them.
if podman build --format docker --layers=false --pull=never --target prebuilt \
  --build-arg RUNTIME_IMAGE="$runtime_base" --build-arg RUST_IMAGE="$runtime_base" \
  --build-arg NODE_IMAGE="$runtime_base" --build-arg SERVER_BIN=bin/video-translation-server \
  -t "$server_image" "$work/context" >"$work/build.log" 2>&1; then
  made_images+=("$server_image")
  ok "image built from the host's binary in $((SECONDS - t0)) s ($(podman image inspect -f '{{.Size}}' "$server_image" | awk '{printf "%.1f MB", $1/1e6}'))"
else
  give_up "podman build --target prebuilt" "$(tail -n 5 "$work/build.log")"
fi

# --- the server alone --------------------------------------------------------------------

say "the server alone"
# podman's stderr to a log: without systemd it complains of every health-check timer it cannot set.
podman run -d --name "$solo" -p 127.0.0.1::8080 -e VTS_DELAY=2 -e RUST_LOG=warn "$server_image" >/dev/null 2>>"$work/podman.log" ||
  give_up "podman run of the image"
solo_url=http://$(podman port "$solo" 8080 | head -n 1)
wait_for "$solo_url/healthz" 30 && ok "GET /healthz answers 200 through the published port" ||
  give_up "the server did not answer /healthz within 30 s" "$(podman logs --tail 5 "$solo" 2>&1)"

check "runs as the non-root user vts (uid 10001)" test "$(podman exec "$solo" id -u)" = 10001
check "HEALTHCHECK in the image runs and reports healthy" podman healthcheck run "$solo"
check "the image's PID 1 is the server itself (exec form: SIGTERM reaches it)" \
  test "$(podman exec "$solo" readlink /proc/1/exe)" = /usr/local/bin/video-translation-server

req GET "$solo_url/status"
result=$(json .result <<<"$body")
check "GET /status answers the seeds' contract ($result)" \
  test "$status" = 200 -a \( "$result" = pending -o "$result" = completed -o "$result" = error \)

req GET "$solo_url/"
check "GET / serves the demo page" grep -q '/pkg/' <<<"$body"
req GET "$solo_url/pkg/package.json"
check "GET /pkg/package.json is the npm package ($(json .name <<<"$body"))" \
  test "$status/$(json .name <<<"$body")" = 200/video-translation-client
wasm=client-wasm/pkg/video_translation_client_bg.wasm
served=$(curl -s --max-time 15 "$solo_url/pkg/$(basename "$wasm")" | wc -c)
check "GET /pkg/ serves the package's wasm, byte for byte ($served bytes)" test "$served" = "$(wc -c <"$wasm")"

req POST "$solo_url/jobs" -H 'content-type: application/json' -d '{}'
eta=$(json .eta_ms <<<"$body")
check "VTS_DELAY=2 from the environment sets a new job's duration (eta_ms $eta)" \
  test "$status" = 201 -a -n "$eta" -a "${eta%.*}" -le 2000
req POST "$solo_url/jobs" -H 'content-type: application/json' -d '{"duration_ms": 1500}'
job=$(json .id <<<"$body")
REQ_TIMEOUT=20 req GET "$solo_url/jobs/$job?wait=10"
[ "$(json .result <<<"$body")" = pending ] && REQ_TIMEOUT=20 req GET "$solo_url/jobs/$job?wait=10"
check "a job created with POST /jobs runs to completion (long-polled)" test "$status/$(json .result <<<"$body")" = 200/completed

# A held long-poll, then `podman stop`: SIGTERM reaches the server, which answers the poll
# with the job's current status at once and exits 0 (not killed after the 10 s grace).
req POST "$solo_url/jobs" -H 'content-type: application/json' -d '{"duration_ms": 600000}'
job=$(json .id <<<"$body")
held_start=$EPOCHREALTIME
curl -s --max-time 40 -o "$work/held.json" -w '%{http_code} %{time_total}\n' "$solo_url/jobs/$job?wait=30" >"$work/held.txt" &
held=$!
sleep 1
t0=$EPOCHREALTIME
podman stop -t 10 "$solo" >/dev/null 2>>"$work/podman.log"
stop_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
wait "$held"
read -r held_status held_s <"$work/held.txt"
after_stop=$(awk -v s="$held_start" -v d="$held_s" -v t="$t0" 'BEGIN { printf "%.2f", s + d - t }')
check "podman stop: a held long-poll is answered at once ($held_status $(json .result <"$work/held.json"), $after_stop s after the stop began, 30 s wait asked)" \
  eval '[ "$held_status" = 200 ] && [ "$(json .result <"$work/held.json")" = pending ] && lt "$after_stop" 3'
exit_code=$(podman inspect -f '{{.State.ExitCode}}' "$solo")
check "podman stop: the server exits by itself, code $exit_code, in $stop_s s (SIGTERM, no SIGKILL)" \
  eval '[ "$exit_code" = 0 ] && lt "$stop_s" 8'
podman rm -f "$solo" >/dev/null 2>>"$work/podman.log"

# --- the fleet ---------------------------------------------------------------------------

say "the fleet: compose.yaml with podman-compose (Redis, three replicas, nginx)"
# Every proxy_* setting of make cluster's nginx holds in the containers' one too.
missing=$(comm -23 <(grep -o '^ *proxy_[a-z_]*' cluster/nginx.conf | tr -d ' ' | sort -u) \
  <(grep -o '^ *proxy_[a-z_]*' containers/nginx.conf | tr -d ' ' | sort -u) | tr '\n' ' ')
check "containers/nginx.conf sets every proxy_* directive of cluster/nginx.conf${missing:+ (missing: $missing)}" test -z "$missing"

replica_url() { echo "http://$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${project}_replica-$1_1"):8080"; }
# fleet_ready SECONDS: nginx and every replica answer /readyz (each replica on Redis).
fleet_ready() {
  wait_for "$fleet/readyz" "$1" && wait_for "$(replica_url 1)/readyz" 10 &&
    wait_for "$(replica_url 2)/readyz" 10 && wait_for "$(replica_url 3)/readyz" 10
}

fleet_port=$(free_port)
fleet=http://127.0.0.1:$fleet_port
compose up -d || give_up "podman-compose up" "$(tail -n 5 "$work/compose.log")"
fleet_ready 60 && ok "nginx answers on the one published port, the replicas ready on Redis" ||
  give_up "the fleet did not answer /readyz within 60 s" "$(tail -n 5 "$work/compose.log"; podman logs --tail 5 "${project}_nginx_1" 2>&1)"
req GET "$fleet/"
check "the demo page through nginx" grep -q '/pkg/' <<<"$body"

req POST "$fleet/jobs" -H 'content-type: application/json' -d '{"duration_ms": 2000}'
job=$(json .id <<<"$body")
seen=0
for n in 1 2 3; do
  req GET "$(replica_url $n)/jobs/$job"
  [ "$status/$(json .id <<<"$body")" = "200/$job" ] && seen=$((seen + 1))
done
check "a job created through nginx is read through every replica ($seen of 3)" test "$seen" = 3
REQ_TIMEOUT=20 req GET "$fleet/jobs/$job?wait=10"
check "and runs to completion, long-polled through nginx" test "$(json .result <<<"$body")" = completed

# Requests every 50 ms through nginx while replica 2 stops: none fails, none waits long.
( for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}\n' "$fleet/jobs/$job"
    sleep 0.05
  done ) >"$work/flow.txt" &
flow=$!
sleep 1
podman stop -t 10 "${project}_replica-2_1" >/dev/null 2>>"$work/podman.log"
wait "$flow"
answered=$(grep -c '^200 ' "$work/flow.txt")
slowest=$(sort -k2 -n "$work/flow.txt" | tail -n 1 | cut -d' ' -f2)
slow=$(awk '$2 > 0.5' "$work/flow.txt" | wc -l)
check "a replica stopped while requests flow: $answered of 100 answered 200; $slow took over 0.5 s, the slowest $slowest s (nginx's 1 s connect timeout)" \
  eval '[ "$answered" = 100 ] && lt "$slowest" 2.5'
req POST "$fleet/jobs" -H 'content-type: application/json' -d '{"duration_ms": 100}'
check "jobs are still created through nginx with a replica down" test "$status" = 201
podman start "${project}_replica-2_1" >/dev/null 2>>"$work/podman.log"
wait_for "$(replica_url 2)/readyz" 30
check "the stopped replica starts again and is ready" test "$status" = 200

# Jobs in every state, then down and up: Redis's append-only file on the volume keeps them.
declare -A expected=([$job]=completed)
for spec in '{"duration_ms": 300}=completed' '{"duration_ms": 300, "outcome": "error"}=error' \
  '{"duration_ms": 3600000}=pending'; do
  req POST "$fleet/jobs" -H 'content-type: application/json' -d "${spec%=*}"
  expected[$(json .id <<<"$body")]=${spec##*=}
done
sleep 1
compose down || bad "podman-compose down" "$(tail -n 3 "$work/compose.log")"
check "down removes the fleet's containers and keeps the Redis volume" \
  bash -c "! podman ps -a --format '{{.Names}}' | grep -q '^${project}_' && podman volume exists ${project}_redis-data"
compose up -d || give_up "podman-compose up (again)" "$(tail -n 5 "$work/compose.log")"
fleet_ready 60 || give_up "the fleet did not come back within 60 s" "$status $body"
kept=0
for id in "${!expected[@]}"; do
  req GET "$fleet/jobs/$id"
  if [ "$status/$(json .result <<<"$body")" = "200/${expected[$id]}" ]; then kept=$((kept + 1))
  else echo "       $id: expected ${expected[$id]}, got $status $body"; fi
done
check "every job is kept across down and up, in its state ($kept of ${#expected[@]})" test "$kept" = "${#expected[@]}"

say "image sizes: $(for image in "${made_images[@]}"; do [ "$image" = "$context_image" ] && continue; podman image inspect -f "{{.Size}}" "$image" | awk -v n="$image" '{printf "%s %.1f MB; ", n, $1/1e6}'; done)"
