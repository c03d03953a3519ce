// The packed package in a Vite 7 app: installed from the tarball, built with `vite build`,
// served by the real server (the built dist/ as its --www-dir) and run in headless Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launchChromium, mustRun, removeScratch, scratchProject, startServer } from "./helpers.mjs";

const VITE = "7.3.8";

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vite app</title></head>
<body><progress id="progress" max="1" value="0"></progress> <span id="state">loading</span>
<script type="module" src="/main.js"></script></body></html>`;

const MAIN = `
import init, { VideoTranslationClient } from "video-translation-client";

await init();
const client = new VideoTranslationClient(location.origin, { initialDelayMs: 50, maxDelayMs: 200 });
const job = await client.createJob({ durationMs: 800 });
const updates = [];
const outcome = await client.waitForCompletion(job.id, {
  onUpdate: (update) => {
    updates.push(update);
    document.getElementById("progress").value = update.progress ?? 0;
    document.getElementById("state").textContent = update.result;
  },
});
window.watched = { outcome, updates };
`;

let project;
let server;
let context;

before(async () => {
  project = await scratchProject("vite-app", { "index.html": INDEX, "main.js": MAIN }, { vite: VITE });
  await mustRun("npx", ["--no-install", "vite", "build", "--logLevel", "warn"], { cwd: project, timeout: 120_000 });
  server = await startServer(["--www-dir", path.join(project, "dist")]);
  context = await launchChromium();
});
after(async () => {
  await context?.close();
  await server?.stop();
  removeScratch(project);
});

test("vite build bundles the package and emits its .wasm as an asset", () => {
  const assets = fs.readdirSync(path.join(project, "dist", "assets"));
  assert.ok(assets.some((file) => file.endsWith(".wasm")), `assets: ${assets}`);
  assert.ok(assets.some((file) => file.endsWith(".js")), `assets: ${assets}`);
});

test("the built app, served and opened in Chromium, watches a job to completed", async () => {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(server.url);
  await page.waitForFunction(() => window.watched !== undefined, null, { timeout: 15_000 });
  const { outcome, updates } = await page.evaluate(() => window.watched);
  assert.deepEqual(errors, []);
  assert.equal(outcome.result, "completed");
  // One update per attempt at least: a stream, one attempt, brings the pending status too.
  assert.ok(updates.length >= outcome.attempts, `${updates.length} updates, ${outcome.attempts} attempts`);
  assert.equal(await page.locator("#state").textContent(), "completed");
  assert.equal(await page.locator("#progress").evaluate((bar) => bar.value), 1);
  await page.close();
});
