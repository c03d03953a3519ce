// What a page downloads to use the client, and the package's size limit and goal: one place
// for the size test (tests/npm-package.test.mjs) and the size bench (bench/package-size.mjs).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The limit set for the package (72 KiB of gzipped wasm and glue), printed with its verdict by
 * `make bench`. Not met by this build, and not reachable while the client reads JS values with
 * serde-wasm-bindgen, as its users asked: its deserializer's error path brings Rust's float
 * formatting and the rest of serde's error machinery (measured: bench/README.md, Package size).
 */
export const PACKAGE_LIMIT_GZIP = 72 * 1024;

/** What the package aims for (56 KiB), printed beside the figure by `make bench`. */
export const PACKAGE_GOAL_GZIP = 56 * 1024;

/**
 * What the size test enforces until the limit above can be met: this build's size and about
 * 3 KB more, so that a change that grows the package fails a test and is looked at first.
 * Raised from 92 KiB when the client learnt to stream (its reader, sse-core and the stream
 * events' types: 12.2 KB gzipped, 90,389 to 102,622 bytes).
 */
export const PACKAGE_CEILING_GZIP = 103 * 1024;

/** The wasm module and wasm-bindgen's glue, in client-wasm/pkg. */
export function packageFiles(pkgDir = path.join(REPO, "client-wasm", "pkg")) {
  return [path.join(pkgDir, "video_translation_client_bg.wasm"), path.join(pkgDir, "video_translation_client.js")];
}
