#!/usr/bin/env bash
# `make container-image`: the Dockerfile's full multi-stage build, as a user with a registry
# runs it (`docker build .`), with podman; prints how long it took and the image's size.
# Leaves the image as localhost/video-translation-server:latest (compose.yaml's default).
#
# The base images are the official ones when a registry answers. Where none does, stand-ins
# are made here: Debian from debootstrap; the Rust image as Debian with a C toolchain and this
# machine's rustup toolchain where the official image has it (/usr/local/rustup,
# /usr/local/cargo); the Node image as Debian with this machine's node and npm where the
# official one has them (/usr/local). Both stand-ins trust this machine's extra CA
# certificates, for the proxy HTTPS leaves through here; they are removed afterwards.
#   VTS_CONTAINER_BASE    auto (default) | local | registry
#   VTS_IMAGE             the tag to build (localhost/video-translation-server:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env PATH="$PATH" "$0" "$@"

work=target/container-image
image=${VTS_IMAGE:-localhost/video-translation-server:latest}
source scripts/container-lib.sh
use_own_containers_conf
say() { printf '==> %s\n' "$*"; }

build_args=()
stand_ins=()
cleanup() { [ ${#stand_ins[@]} -eq 0 ] || podman rmi -f "${stand_ins[@]}" >/dev/null 2>&1 || true; rm -rf "$work/rootfs"; }
trap cleanup EXIT

base=${VTS_CONTAINER_BASE:-auto}
if [ "$base" != local ] && timeout 60 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>"$work/pull.log"; then
  say "a registry answers: the official base images"
else
  [ "$base" != registry ] || { cat "$work/pull.log" >&2; exit 1; }
  say "no registry: making the base images here ($(tail -n 1 "$work/pull.log" 2>/dev/null | cut -c1-100))"
  rootfs debian
  rootfs rust-build ca-certificates,gcc,libc6-dev,libstdc++6,make,pkg-config,git,curl,xz-utils
  tag=localhost/vts-image-base
  # Kept after the build (the image's base layer); imported again only when it is gone.
  podman image exists "$tag/debian:bookworm-slim" ||
    podman import -q "$rootfs_dir/debian.tar" "$tag/debian:bookworm-slim" >/dev/null
  stand_ins+=("$tag/rust:bookworm" "$tag/node:bookworm")

  # The Rust stand-in: rustup's stable toolchain of this machine (its wasm32 target and
  # rust-src included) with rustup and its proxies, laid out as in the official image.
  toolchain=$(rustup default | cut -d" " -f1)
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  rm -rf "$work/rootfs" && mkdir -p "$work/rootfs"
  tar -C "$work/rootfs" -xf "$rootfs_dir/rust-build.tar"
  mkdir -p "$work/rootfs/usr/local/rustup/toolchains" "$work/rootfs/usr/local/cargo/bin"
  cp -a "$rustup_home/toolchains/$toolchain" "$work/rootfs/usr/local/rustup/toolchains/"
  rm -rf "$work/rootfs/usr/local/rustup/toolchains/$toolchain/share/doc"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" >"$work/rootfs/usr/local/rustup/settings.toml"
  cp "$(command -v rustup)" "$work/rootfs/usr/local/cargo/bin/rustup"
  for proxy in cargo rustc rustdoc rust-gdb rust-lldb rustfmt cargo-fmt cargo-clippy clippy-driver; do
    ln -s rustup "$work/rootfs/usr/local/cargo/bin/$proxy"
  done
  cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$work/rootfs" update-ca-certificates >/dev/null
  tar -C "$work/rootfs" -c . | podman import -q \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    - "$tag/rust:bookworm" >/dev/null

  # The Node stand-in: this machine's node (Node 20) and npm where the official image has them.
  rm -rf "$work/rootfs" && mkdir -p "$work/rootfs/usr/local/bin" "$work/rootfs/usr/local/lib/node_modules"
  cp "$(command -v node)" "$work/rootfs/usr/local/bin/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$work/rootfs/usr/local/lib/node_modules/npm"
  tar -C "$work/rootfs" -c . | podman import -q - "$tag/node:bookworm" >/dev/null
  rm -rf "$work/rootfs"

  build_args=(--pull=never --build-arg "RUNTIME_IMAGE=$tag/debian:bookworm-slim"
    --build-arg "RUST_IMAGE=$tag/rust:bookworm" --build-arg "NODE_IMAGE=$tag/node:bookworm")
fi

say "podman build: the full multi-stage build (compiles the server with LTO and the npm package)"
started=$SECONDS
# docker format: OCI images have no HEALTHCHECK. No layer cache: the build stage is gigabytes.
podman build --format docker --layers=false "${build_args[@]}" -t "$image" . 2>&1 | tee "$work/build.log"
took=$((SECONDS - started))
size=$(podman image inspect -f '{{.Size}}' "$image")
say "built $image in $((took / 60)) min $((took % 60)) s; image size $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
