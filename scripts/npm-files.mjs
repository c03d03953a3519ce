#!/usr/bin/env node
// Finishes the npm package in client-wasm/pkg: writes package.json and README.md in place of
// wasm-pack's. Name, version, description, license and repository come from Cargo; the README
// is docs/client.md. One source for each, so the package and the repository never disagree.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [pkgDir] = process.argv.slice(2);
if (!pkgDir) throw new Error("usage: npm-files.mjs <pkg-dir>");
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const metadata = JSON.parse(execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps"], { encoding: "utf8" }));
const crate = metadata.packages.find((p) => p.name === "video-translation-client");

const manifest = {
  name: crate.name,
  version: crate.version,
  description: crate.description,
  license: crate.license,
  repository: { type: "git", url: `git+${crate.repository}.git`, directory: "client-wasm" },
  keywords: ["polling", "backoff", "long-polling", "webassembly", "video-translation", "status"],
  type: "module",
  // One build for every place: browsers and bundlers call init(), Node and Workers may call
  // initSync() with the bytes. The .wasm is exported too, for bundlers that take it as a URL.
  // The types are client-wasm/types/index.d.ts: wasm-bindgen's declarations re-exported, with
  // what they need from the DOM library declared for programs without it (a Node service).
  exports: {
    ".": {
      types: "./index.d.ts",
      default: "./video_translation_client.js",
    },
    "./video_translation_client_bg.wasm": "./video_translation_client_bg.wasm",
    "./package.json": "./package.json",
  },
  main: "./video_translation_client.js",
  types: "./index.d.ts",
  bin: { "video-translation-status": "bin/video-translation-status.js" },
  files: [
    "video_translation_client.js",
    "video_translation_client.d.ts",
    "index.d.ts",
    "video_translation_client_bg.wasm",
    "bin/",
    "cli/",
    "README.md",
  ],
  // Importing the module defines functions and nothing else; bundlers may drop what is unused.
  sideEffects: false,
  engines: { node: ">=20" },
};
writeFileSync(path.join(pkgDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(path.join(REPO, "client-wasm", "types", "index.d.ts"), path.join(pkgDir, "index.d.ts"));

// The README is docs/client.md, the client's documentation in the repository. Its links are
// relative to docs/; on npm they would point nowhere, so each becomes the repository's own page.
const DOCS = "docs/client.md";
const readme = readFileSync(path.join(REPO, DOCS), "utf8")
  .replace(/<!--[\s\S]*?-->\n*/g, "")
  .replace(/\]\((?![a-z]+:|#)([^)\s]+)\)/g, (_, target) => {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(DOCS), target));
    return `](${crate.repository}/blob/main/${resolved})`;
  });
writeFileSync(path.join(pkgDir, "README.md"), readme);
