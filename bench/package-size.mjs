#!/usr/bin/env node
// Prints the npm package's transfer size: what a browser downloads to use the client.
// Run by `make bench` after `make pkg`.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const PKG = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "client-wasm", "pkg");
const files = ["video_translation_client_bg.wasm", "video_translation_client.js"];

const rows = files.map((name) => {
  const bytes = fs.readFileSync(path.join(PKG, name));
  return {
    name,
    raw: bytes.length,
    gzip: zlib.gzipSync(bytes, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(bytes).length,
  };
});
const total = rows.reduce((sum, r) => ({ raw: sum.raw + r.raw, gzip: sum.gzip + r.gzip, brotli: sum.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

console.log("Package size (client-wasm/pkg, release build)\n");
console.log(`| ${"file".padEnd(34)} | ${"raw".padStart(10)} | ${"gzip -9".padStart(10)} | ${"brotli".padStart(10)} |`);
console.log(`|${"-".repeat(36)}|${"-".repeat(12)}|${"-".repeat(12)}|${"-".repeat(12)}|`);
for (const r of [...rows, { name: "total (wasm + JS glue)", ...total }]) {
  console.log(`| ${r.name.padEnd(34)} | ${kb(r.raw).padStart(10)} | ${kb(r.gzip).padStart(10)} | ${kb(r.brotli).padStart(10)} |`);
}
