#!/usr/bin/env node
// Shortens the names the wasm module and its JS glue share: wasm-bindgen names every import
// like "__wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc" and its module
// "./video_translation_client_bg.js", and the hashes do not compress. binaryen renames them
// ("A", "B", ...) and prints the mapping; this rewrites the glue to match. About 2 KB of the
// gzipped package, which has a 30 KB budget (make bench).
//
// Every rename is checked: a name the glue does not use exactly as expected stops the build,
// and the result is compiled and its imports and exports compared with the glue's.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const [pkgDir, wasmOpt, ...features] = process.argv.slice(2);
if (!pkgDir || !wasmOpt) throw new Error("usage: minify-wasm-names.mjs <pkg-dir> <wasm-opt> [--enable-... flags]");
const wasmPath = path.join(pkgDir, "video_translation_client_bg.wasm");
const gluePath = path.join(pkgDir, "video_translation_client.js");
const dtsPath = path.join(pkgDir, "video_translation_client.d.ts");
const GLUE_MODULE = "./video_translation_client_bg.js";

const before = new WebAssembly.Module(readFileSync(wasmPath));
const mapping = JSON.parse(
  execFileSync(wasmOpt, [wasmPath, ...features, "--minify-imports-and-exports-and-modules", "-o", wasmPath], { encoding: "utf8" }),
);
const after = new WebAssembly.Module(readFileSync(wasmPath));

const fail = (message) => {
  throw new Error(`minify-wasm-names: ${message}`);
};
const once = (text, search, replacement, what) => {
  const parts = text.split(search);
  if (parts.length !== 2) fail(`expected ${what} once in the glue, found it ${parts.length - 1} times`);
  return parts.join(replacement);
};
const modules = new Set(WebAssembly.Module.imports(after).map((i) => i.module));
const beforeModules = new Set(WebAssembly.Module.imports(before).map((i) => i.module));
if (modules.size !== 1 || beforeModules.size !== 1 || !beforeModules.has(GLUE_MODULE)) {
  fail(`expected every import from ${GLUE_MODULE}, found ${[...beforeModules]} -> ${[...modules]}`);
}
const [module] = modules;

let glue = readFileSync(gluePath, "utf8");
glue = once(glue, `${JSON.stringify(GLUE_MODULE)}: import0`, `${JSON.stringify(module)}: import0`, "the import module");
for (const [, name, short] of mapping.imports) {
  glue = once(glue, `        ${name}: function`, `        ${JSON.stringify(short)}: function`, `import ${name}`);
}
let dts = readFileSync(dtsPath, "utf8");
for (const [name, short] of mapping.exports) {
  glue = glue.replaceAll(new RegExp(`\\bwasm\\.${name}\\b`, "g"), `wasm[${JSON.stringify(short)}]`);
  dts = dts.replace(new RegExp(`(\\n\\s+readonly )${name}:`), `$1${JSON.stringify(short)}:`);
}

// The result must fit: what the module imports is what the glue provides, and no old export
// name is left for the glue to call.
for (const { name } of WebAssembly.Module.imports(after)) {
  if (!glue.includes(`${JSON.stringify(name)}: function`)) fail(`the glue does not provide import ${name}`);
}
for (const { name } of WebAssembly.Module.exports(before)) {
  if (new RegExp(`\\bwasm\\.${name}\\b`).test(glue)) fail(`the glue still calls export ${name}`);
}
writeFileSync(gluePath, glue);
writeFileSync(dtsPath, dts);
// wasm-bindgen's description of the raw module's exports, now renamed; nothing imports it.
rmSync(path.join(pkgDir, "video_translation_client_bg.wasm.d.ts"), { force: true });
