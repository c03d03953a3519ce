# Sourced by scripts/container-test.sh and scripts/container-image.sh: podman set up as this
# kind of machine needs it, and minimal Debian root filesystems for base images made here.
# Expects $work (a folder under target/).

# podman from a containers.conf of our own (nothing in /etc is changed): runc (crun refuses
# hybrid cgroups: "cgroups in hybrid mode not supported"), rlimits the kernel lets a
# container have (podman's defaults fail with "setrlimit RLIMIT_NOFILE: Operation not
# permitted"), and netavark, whose aardvark-dns lets compose services find each other by name.
use_own_containers_conf() {
  local nofile nproc hard_nproc
  nofile=$(ulimit -Hn)
  nproc=$(cat /proc/sys/kernel/pid_max)
  hard_nproc=$(ulimit -Hu)
  [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -ge "$nproc" ] || nproc=$hard_nproc
  mkdir -p "$work"
  cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
CONF
  export CONTAINERS_CONF=$PWD/$work/containers.conf
}

# rootfs NAME [PACKAGES]: a minimal bookworm root filesystem with PACKAGES as the tarball
# target/container-rootfs/NAME.tar, made once (debootstrap, a minute or three) and kept.
rootfs_dir=target/container-rootfs
rootfs() {
  local name=$1 include=${2:-} tar=$rootfs_dir/$1.tar dir
  [ -s "$tar" ] && return 0
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: run scripts/install-tools.sh --containers"; return 1; }
  mkdir -p "$rootfs_dir"
  dir=$(mktemp -d "$rootfs_dir/$name.XXXX")
  debootstrap --variant=minbase ${include:+--include="$include"} bookworm "$dir" \
    "${VTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1 || { tail -n 5 "$dir.log"; rm -rf "$dir"; return 1; }
  # As the official slim images: no package cache or lists, no manuals, docs or translations.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
  find "$dir/usr/share/doc" -type f ! -name copyright -delete
  tar -C "$dir" -cf "$tar.part" . && mv "$tar.part" "$tar"
  rm -rf "$dir" "$dir.log"
}
