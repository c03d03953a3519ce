// One small app, built from the packed tarball by each common bundler with the recipe the
// docs/client.md gives (the bundlers pinned in package.json), each build served by the real server
// (its dist/ as --www-dir) and opened in headless Chromium, where it watches a job.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, launchChromium, mustRun, removeScratch, scratchProject, startServer } from "./helpers.mjs";

const BIN = path.join(REPO, "node_modules", ".bin");

/** The app's page, loading the bundle at `script`. */
const page = (script) => `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bundled app</title></head>
<body><span id="state">loading</span>
<script type="module" src="${script}"></script></body></html>`;

/** The app: `initialize` is how this bundler's recipe starts the package. */
const app = (imports, initialize) => `
import init, { VideoTranslationClient } from "video-translation-client";
${imports}
${initialize}
const client = new VideoTranslationClient(location.origin, { initialDelayMs: 50, maxDelayMs: 200 });
const job = await client.createJob({ durationMs: 600 });
const updates = [];
const outcome = await client.waitForCompletion(job.id, {
  onUpdate: (update) => {
    updates.push(update.result);
    document.getElementById("state").textContent = update.result;
  },
});
window.watched = { outcome, updates };
`;

// Each bundler: the files its recipe needs, and the command that builds dist-NAME/.
const BUNDLERS = {
  // No configuration: the page is the entry, the .wasm an asset it finds by URL.
  vite: {
    files: { "vite/index.html": page("./main.js"), "vite/main.js": app("", "await init();") },
    build: [path.join(BIN, "vite"), ["build", "vite", "--outDir", "../dist-vite", "--emptyOutDir", "--logLevel", "warn"]],
  },
  // No configuration (the app's package.json says "type": "module"): src/index.js to dist/main.js.
  webpack: {
    files: { "webpack/src/index.js": app("", "await init();"), "webpack/dist/index.html": page("./main.js") },
    build: [path.join(BIN, "webpack"), ["--mode", "production", "--no-color"], "webpack"],
    dist: "webpack/dist",
  },
  // esbuild leaves `new URL(..., import.meta.url)` alone, so the app imports the .wasm as a
  // file (the loader copies it to the output) and hands its URL to init().
  esbuild: {
    files: {
      "esbuild/main.js": app('import wasmUrl from "video-translation-client/video_translation_client_bg.wasm";', "await init({ module_or_path: wasmUrl });"),
      "dist-esbuild/index.html": page("./main.js"),
    },
    build: [path.join(BIN, "esbuild"), ["esbuild/main.js", "--bundle", "--format=esm", "--loader:.wasm=file", "--outdir=dist-esbuild", "--log-level=warning"]],
  },
  // Rollup resolves the package with @rollup/plugin-node-resolve and emits the .wasm with
  // @web/rollup-plugin-import-meta-assets (which rewrites the new URL(...) to the emitted file).
  rollup: {
    files: {
      "rollup/main.js": app("", "await init();"),
      "rollup/rollup.config.mjs": `
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { importMetaAssets } from "@web/rollup-plugin-import-meta-assets";
export default { input: "rollup/main.js", output: { dir: "dist-rollup", format: "es" }, plugins: [nodeResolve(), importMetaAssets()] };
`,
      "dist-rollup/index.html": page("./main.js"),
    },
    build: [path.join(BIN, "rollup"), ["--config", "rollup/rollup.config.mjs", "--silent"]],
  },
};
const distOf = (name) => BUNDLERS[name].dist ?? `dist-${name}`;

let project;
let context;
const servers = [];

before(async () => {
  const files = Object.assign({}, ...Object.values(BUNDLERS).map((bundler) => bundler.files));
  project = await scratchProject("bundlers", files);
  // The plugins are the repository's (package.json); a user's app would have them as its own.
  fs.symlinkSync(path.join(REPO, "node_modules", "@rollup"), path.join(project, "node_modules", "@rollup"));
  fs.symlinkSync(path.join(REPO, "node_modules", "@web"), path.join(project, "node_modules", "@web"));
  context = await launchChromium();
});
after(async () => {
  await context?.close();
  for (const server of servers) await server.stop();
  removeScratch(project);
});

for (const name of Object.keys(BUNDLERS)) {
  test(`${name}: the built app emits the .wasm and watches a job to completed in Chromium`, async () => {
    const [command, args, cwd = ""] = BUNDLERS[name].build;
    await mustRun(command, args, { cwd: path.join(project, cwd), timeout: 180_000 });
    const dist = path.join(project, distOf(name));
    const emitted = fs.readdirSync(dist, { recursive: true }).map(String);
    assert.ok(emitted.some((file) => file.endsWith(".wasm")), `${name} emitted: ${emitted}`);

    const server = await startServer(["--www-dir", dist]);
    servers.push(server);
    const tab = await context.newPage();
    const errors = [];
    tab.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    tab.on("pageerror", (error) => errors.push(error.message));
    await tab.goto(server.url);
    await tab.waitForFunction(() => window.watched !== undefined, null, { timeout: 15_000 }).catch(() => {
      throw new Error(`${name}'s page watched nothing: ${errors.join("; ") || "no error logged"}`);
    });
    const { outcome, updates } = await tab.evaluate(() => window.watched);
    assert.deepEqual(errors, []);
    assert.equal(outcome.result, "completed");
    // One update per attempt at least: a stream, one attempt, brings the pending status too.
    assert.ok(updates.length >= outcome.attempts, `${updates.length} updates, ${outcome.attempts} attempts`);
    assert.equal(await tab.locator("#state").textContent(), "completed");
    await tab.close();
    await server.stop();
  });
}
