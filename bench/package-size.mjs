#!/usr/bin/env node
// The npm package's transfer size: what a page downloads to use the client (the wasm and
// wasm-bindgen's glue), beside two peers built with the same profile and wasm-opt flags (one
// GET with reqwest, one with gloo-net: bench/peers), and twiggy's ten largest items of the
// client's module. The limit, the goal and the ceiling a test enforces
// (bench/package-files.mjs) are printed with the figure. Run by `make bench` after `make pkg`.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

import { PACKAGE_CEILING_GZIP, PACKAGE_LIMIT_GZIP, PACKAGE_GOAL_GZIP, packageFiles, REPO } from "./package-files.mjs";

const bytes = (n) => n.toLocaleString("en");
const gzip = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const brotli = (file) => zlib.brotliCompressSync(fs.readFileSync(file)).length;

/** Builds a peer crate as scripts/build-pkg.sh builds the client; its wasm and glue. */
function buildPeer(name) {
  const dir = path.join(REPO, "bench", "peers", name);
  const out = path.join(REPO, "target", "peers", name);
  execFileSync("wasm-pack", ["build", dir, "--target", "web", "--profile", "wasm-release", "--mode", "no-install", "--out-dir", out, "--out-name", name], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CARGO_TARGET_DIR: path.join(REPO, "target", "peers-build") },
  });
  const wasm = path.join(out, `${name}_bg.wasm`);
  execFileSync(path.join(REPO, "node_modules", ".bin", "wasm-opt"), [...WASM_OPT_FLAGS, wasm, "-o", wasm]);
  return [wasm, path.join(out, `${name}.js`)];
}

// The flags of scripts/build-pkg.sh, read from it so the two never differ.
const buildScript = fs.readFileSync(path.join(REPO, "scripts", "build-pkg.sh"), "utf8");
const WASM_OPT_FLAGS = buildScript.match(/wasm-opt (--flatten[^"]*?)\\?\n\s*"\$wasm"/s)?.[1].split(/[\s\\]+/).filter(Boolean);
if (!WASM_OPT_FLAGS) throw new Error("could not read wasm-opt's flags from scripts/build-pkg.sh");

const rows = [
  { name: "video-translation-client (this package)", files: packageFiles() },
  { name: "peer: one GET with reqwest", files: buildPeer("reqwest-get") },
  { name: "peer: one GET with gloo-net", files: buildPeer("gloo-net-get") },
].map(({ name, files }) => {
  const [wasm, glue] = files;
  return { name, wasm: gzip(wasm), glue: gzip(glue), total: gzip(wasm) + gzip(glue), brotli: brotli(wasm) + brotli(glue), raw: fs.statSync(wasm).size };
});

console.log("Package size: what a page downloads (wasm + wasm-bindgen's glue), bytes\n");
console.log("| module | wasm raw | wasm gzip -9 | glue gzip -9 | **total gzip -9** | total brotli |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.name} | ${bytes(r.raw)} | ${bytes(r.wasm)} | ${bytes(r.glue)} | **${bytes(r.total)}** | ${bytes(r.brotli)} |`);
}
const client = rows[0].total;
const verdict = (limit) => (client <= limit ? "met" : "MISSED");
console.log(`\nLimit ${bytes(PACKAGE_LIMIT_GZIP)} (72 KiB): ${verdict(PACKAGE_LIMIT_GZIP)}, ${((client / PACKAGE_LIMIT_GZIP) * 100).toFixed(1)} %`);
console.log(`Goal  ${bytes(PACKAGE_GOAL_GZIP)} (56 KiB): ${verdict(PACKAGE_GOAL_GZIP)}, ${((client / PACKAGE_GOAL_GZIP) * 100).toFixed(1)} %`);
console.log(`Ceiling ${bytes(PACKAGE_CEILING_GZIP)} (${PACKAGE_CEILING_GZIP / 1024} KiB, tests/npm-package.test.mjs fails past it): ${verdict(PACKAGE_CEILING_GZIP)}`);

// twiggy reads names from cargo's output (the name section, before wasm-bindgen and wasm-opt
// strip it): the same code, larger and with its names.
const named = path.join(REPO, "target", "wasm32-unknown-unknown", "wasm-release", "video_translation_client.wasm");
console.log("\nThe ten largest items of the client's code (twiggy top, cargo's output before wasm-bindgen and wasm-opt; its name and");
console.log("wasm-bindgen's sections, which neither leaves in the package, left out):\n");
const top = execFileSync("twiggy", ["top", "-n", "12", named], { encoding: "utf8" }).split("\n");
console.log(top.filter((line) => !/"function names" subsection|custom section '__wasm_bindgen_unstable'|\.\.\. and \d+ more|Σ \[/.test(line)).join("\n"));
