// What a page downloads to use the client, and the package's size limit and goal: one place
// for the size test (tests/npm-package.test.mjs) and the size bench (bench/package-size.mjs).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A test fails past this many bytes of gzipped wasm and glue (72 KiB). */
export const PACKAGE_LIMIT_GZIP = 72 * 1024;

/** What the package aims for (56 KiB), printed beside the figure by `make bench`. */
export const PACKAGE_GOAL_GZIP = 56 * 1024;

/** The wasm module and wasm-bindgen's glue, in client-wasm/pkg. */
export function packageFiles(pkgDir = path.join(REPO, "client-wasm", "pkg")) {
  return [path.join(pkgDir, "video_translation_client_bg.wasm"), path.join(pkgDir, "video_translation_client.js")];
}
