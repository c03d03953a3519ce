#!/usr/bin/env bash
# Builds the npm package into client-wasm/pkg: wasm-pack, then wasm-opt, then the files
# wasm-pack does not make (the command-line tool in client-wasm/cli, package.json, README).
#
# wasm-pack's own wasm-opt step is off (Cargo.toml): Debian's binaryen 108 corrupts
# wasm-bindgen's externref table and the module fails to instantiate. The binaryen pinned
# in package.json is current and handles it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The standard library is rebuilt for this one build with panics that abort at once, without
# a message: the messages pull Rust's formatting machinery into the module, about 2.5 KB of
# the gzipped package (make bench). A panic in the client is a bug either way, and the
# wasm32 target aborts on panic already; only the message is lost. -Zbuild-std is an
# unstable cargo feature: RUSTC_BOOTSTRAP lets the stable toolchain use it (its rust-src
# component is installed by scripts/install-tools.sh). The tests (wasm-pack test) build with
# the ordinary std, and keep their panic messages.
RUSTC_BOOTSTRAP=1 \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
  wasm-pack build client-wasm --target web --release --mode no-install --out-name video_translation_client \
  -- -Zbuild-std=std,panic_abort

wasm=client-wasm/pkg/video_translation_client_bg.wasm
features=(--enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-multivalue)
# The producers and target-features sections only describe the build: no engine reads them.
node_modules/.bin/wasm-opt -Oz --flatten --rereloop -Oz --converge --strip-producers \
  --strip-target-features "${features[@]}" "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
node scripts/minify-wasm-names.mjs client-wasm/pkg node_modules/.bin/wasm-opt "${features[@]}"

# The JS the page downloads with the wasm (wasm-bindgen's glue, the io.js snippet), minified:
# it counts against the package's size budget (32 KiB gzipped with the wasm; make bench).
# Readable sources: client-wasm/js/io.js, and the glue is wasm-bindgen's. The .d.ts is kept
# whole, so editors still show every doc comment.
for js in client-wasm/pkg/video_translation_client.js client-wasm/pkg/snippets/*/js/io.js; do
  banner=$(head -1 "$js" | grep '^/\* @ts-self-types' || true)
  node_modules/.bin/esbuild "$js" --minify --format=esm --target=es2022 --log-level=warning \
    --allow-overwrite --outfile="$js" ${banner:+--banner:js="$banner"}
done

# What wasm-pack does not make: the command-line tool, a full package.json, the npm README.
rm -rf client-wasm/pkg/bin client-wasm/pkg/cli
cp -r client-wasm/cli/bin client-wasm/cli/cli client-wasm/pkg/
node scripts/npm-files.mjs client-wasm/pkg

echo "built client-wasm/pkg ($(wc -c <"$wasm") bytes of wasm)"
