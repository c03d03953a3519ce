#!/usr/bin/env bash
# Builds the npm package into client-wasm/pkg: wasm-pack on the stable toolchain, then
# binaryen's wasm-opt, then the files wasm-pack does not make (the command-line tool in
# client-wasm/cli, package.json, README). wasm-bindgen's glue is shipped as it generates it.
#
# wasm-pack's own wasm-opt step is off (Cargo.toml): Debian's binaryen 108, which wasm-pack
# would find on PATH, corrupts wasm-bindgen's externref table and the module fails to
# instantiate. The binaryen pinned in package.json is current and handles it.
set -euo pipefail
cd "$(dirname "$0")/.."

wasm-pack build client-wasm --target web --profile wasm-release --mode no-install --out-name video_translation_client

wasm=client-wasm/pkg/video_translation_client_bg.wasm
# The features wasm-bindgen 0.2.130's output uses; the producers section only describes the build.
# --flatten --rereloop before a second -Oz, to a fixed point: 1.1 KB less gzipped than -Oz alone
# (make bench), with the same behaviour.
node_modules/.bin/wasm-opt --flatten --rereloop -Oz -Oz --converge --strip-producers \
  --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"

# What wasm-pack does not make: the command-line tool, a full package.json, the npm README.
rm -rf client-wasm/pkg/bin client-wasm/pkg/cli
cp -r client-wasm/cli/bin client-wasm/cli/cli client-wasm/pkg/
node scripts/npm-files.mjs client-wasm/pkg

echo "built client-wasm/pkg ($(wc -c <"$wasm") bytes of wasm)"
