// The packed package in headless Chromium, with no bundler: a plain <script type="module">
// page and a module Web Worker, both served by the real server from a scratch project that
// installed the tarball (the server's --www-dir), as a site without a build step would be.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, removeScratch, scratchProject, startServer } from "./helpers.mjs";

const MODULE = "/node_modules/video-translation-client/video_translation_client.js";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>plain page</title></head>
<body><p id="state">loading</p>
<script type="module">
  import init, { VideoTranslationClient } from "${MODULE}";
  await init();
  const client = new VideoTranslationClient(location.origin, { initialDelayMs: 50, maxDelayMs: 200 });
  const job = await client.createJob({ durationMs: 600 });
  const updates = [];
  const outcome = await client.waitForCompletion(job.id, {
    onUpdate: (update) => {
      updates.push(update);
      document.getElementById("state").textContent = update.result;
    },
  });
  window.watched = { outcome, updates };
</script></body></html>`;

const WORKER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>worker page</title></head>
<body><ol id="updates"></ol>
<script type="module">
  const worker = new Worker("/worker.js", { type: "module" });
  const messages = [];
  worker.onmessage = ({ data }) => {
    messages.push(data);
    if (data.update) document.getElementById("updates").append(Object.assign(document.createElement("li"), { textContent: data.update.result }));
    if (data.outcome || data.error) window.watched = messages;
  };
  worker.onerror = (event) => (window.watched = [{ error: event.message }]);
  worker.postMessage({ baseUrl: location.origin });
</script></body></html>`;

const WORKER = `
import init, { VideoTranslationClient } from "${MODULE}";
// The handler is set before anything is awaited: a message that arrives while the module
// is still loading would otherwise find no handler and be lost.
const ready = init();
onmessage = async ({ data: { baseUrl } }) => {
  try {
    await ready;
    const client = new VideoTranslationClient(baseUrl, { initialDelayMs: 50, maxDelayMs: 200 });
    const job = await client.createJob({ durationMs: 600 });
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (update) => postMessage({ update }) });
    postMessage({ outcome, hasWindow: typeof window !== "undefined", hasDocument: typeof document !== "undefined" });
  } catch (error) {
    postMessage({ error: \`\${error.name}: \${error.message}\` });
  }
};
`;

let project;
let server;
let context;

before(async () => {
  project = await scratchProject("plain-page", { "index.html": PAGE, "worker.html": WORKER_PAGE, "worker.js": WORKER });
  server = await startServer(["--www-dir", project]);
  context = await launchChromium();
});
after(async () => {
  await context?.close();
  await server?.stop();
  removeScratch(project);
});

/** Opens `path`, waits for `window.watched`, and returns it with the console's errors. */
async function watch(path) {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => window.watched !== undefined, null, { timeout: 15_000 });
  const watched = await page.evaluate(() => window.watched);
  await page.close();
  return { watched, errors };
}

test("a plain module page imports the installed package and watches a job to completed", async () => {
  const { watched, errors } = await watch("/");
  assert.deepEqual(errors, []);
  assert.equal(watched.outcome.result, "completed");
  // One update per attempt at least: a stream, one attempt, brings the pending status too.
  assert.ok(watched.updates.length >= watched.outcome.attempts, `${watched.updates.length} updates, ${watched.outcome.attempts} attempts`);
  assert.equal(watched.updates[0].result, "pending");
  assert.equal(watched.updates.at(-1).result, "completed");
});

test("a module Web Worker watches a job and posts each update to the page", async () => {
  const { watched, errors } = await watch("/worker.html");
  assert.deepEqual(errors, []);
  const end = watched.at(-1);
  assert.equal(end.error, undefined);
  assert.equal(end.outcome.result, "completed");
  assert.equal(end.hasWindow, false, "it ran with a worker's globals only");
  assert.equal(end.hasDocument, false);
  const updates = watched.filter((m) => m.update).map((m) => m.update);
  assert.ok(updates.length >= end.outcome.attempts, `${updates.length} updates, ${end.outcome.attempts} attempts`);
  assert.equal(updates.at(-1).result, "completed");
});
