#!/usr/bin/env node
// Prints the npm package's transfer size: what a page downloads to use the client (the wasm,
// wasm-bindgen's glue and the io.js snippet it imports), against the 32 KiB (32,768-byte) gzipped budget.
// Run by `make bench` after `make pkg`.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const PKG = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "client-wasm", "pkg");
const BUDGET_GZIP = 32 * 1024; // 32 KiB
const snippets = fs
  .readdirSync(path.join(PKG, "snippets"), { recursive: true })
  .filter((file) => file.endsWith(".js"))
  .map((file) => path.join("snippets", file));
const files = ["video_translation_client_bg.wasm", "video_translation_client.js", ...snippets];

const rows = files.map((name) => {
  const bytes = fs.readFileSync(path.join(PKG, name));
  return {
    name: name.replace(/video-translation-client-[0-9a-f]+/, "…"),
    raw: bytes.length,
    gzip: zlib.gzipSync(bytes, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(bytes).length,
  };
});
const total = rows.reduce((sum, r) => ({ raw: sum.raw + r.raw, gzip: sum.gzip + r.gzip, brotli: sum.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
const bytes = (n) => n.toLocaleString("en");

console.log("Package size (client-wasm/pkg, release build), in bytes\n");
console.log("| file | raw | gzip -9 | brotli |");
console.log("|---|---|---|---|");
for (const r of [...rows, { name: "**total downloaded**", ...total }]) {
  console.log(`| ${r.name} | ${bytes(r.raw)} | ${bytes(r.gzip)} | ${bytes(r.brotli)} |`);
}
const met = total.gzip <= BUDGET_GZIP;
console.log(
  `\nTarget: ${met ? "met    " : "MISSED "} ${bytes(total.gzip)} bytes gzipped, ${((total.gzip / BUDGET_GZIP) * 100).toFixed(1)} % of the ${bytes(BUDGET_GZIP)}-byte budget`,
);
