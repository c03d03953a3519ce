// Streams in a real browser: one page, served by the real server over plain HTTP/1.1, with
// three clients (three parts of an app, each with its own client) watching ten jobs each.
// Each client holds one stream for all its jobs, so the page holds three of the browser's six
// connections per origin, and the app's own requests go on beside them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchChromium, PKG_DIR, startServer } from "./helpers.mjs";
import { heldTimeline } from "./held-requests.mjs";

const CLIENTS = 3;
const JOBS_PER_CLIENT = 10;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>streams</title></head>
<body><p id="state">loading</p>
<script type="module">
  import init, { VideoTranslationClient } from "/pkg/video_translation_client.js";
  await init();

  window.runClients = async (clients, jobsPerClient) => {
    const parts = Array.from({ length: clients }, () => new VideoTranslationClient(location.origin, { progressIntervalMs: 1000 }));
    const held = () => parts.reduce((sum, client) => sum + client.heldRequests, 0);
    const jobs = [];
    for (const [part, client] of parts.entries()) {
      for (let n = 0; n < jobsPerClient; n += 1) {
        // Ends spread over 2 to 5 s, interleaved between the clients.
        const job = await client.createJob({ durationMs: 2000 + 100 * (n * clients + part), outcome: "completed" });
        jobs.push({ part, id: job.id, updates: 0 });
      }
    }
    const waits = jobs.map((job) =>
      parts[job.part].waitForCompletion(job.id, { onUpdate: () => (job.updates += 1) }).then((outcome) => (job.outcome = outcome)),
    );
    // The app's own requests while the streams are held: each made when every client holds
    // its stream, and answered.
    const app = [];
    const ticker = setInterval(async () => {
      const heldThen = held();
      const response = await fetch("/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      app.push({ heldThen, status: response.status });
    }, 300);
    await Promise.all(waits);
    clearInterval(ticker);
    return { jobs, app, heldAfter: held() };
  };
  document.getElementById("state").textContent = "ready";
</script></body></html>`;

let www;
let server;
let context;

before(async () => {
  www = fs.mkdtempSync(path.join(os.tmpdir(), "vts-stream-page-"));
  fs.writeFileSync(path.join(www, "index.html"), PAGE);
  server = await startServer(["--www-dir", www, "--pkg-dir", PKG_DIR], { logLevel: "warn,video_translation_server::store=debug" });
  context = await launchChromium();
});

after(async () => {
  await context?.close();
  await server?.stop();
  if (www) fs.rmSync(www, { recursive: true, force: true });
});

test("three clients in one page: a stream each for all their jobs, and the app's requests beside them", { timeout: 90_000 }, async () => {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const streams = [];
  const watches = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname !== "/jobs/watch") return;
    (request.headers().accept?.startsWith("text/event-stream") ? streams : watches).push(request.url());
  });
  await page.goto(server.url);
  await page.locator("#state", { hasText: "ready" }).waitFor({ timeout: 10_000 });
  const run = await page.evaluate(([clients, jobs]) => window.runClients(clients, jobs), [CLIENTS, JOBS_PER_CLIENT]);
  await page.close();
  assert.deepEqual(errors, []);

  for (const job of run.jobs) {
    assert.equal(job.outcome?.result, "completed", `job ${job.id}`);
    assert.equal(job.outcome.attempts, 1, `job ${job.id} took one request: its client's stream`);
    assert.ok(job.updates >= 2, `job ${job.id}: its status, then its end (${job.updates} updates)`);
  }
  assert.equal(streams.length, CLIENTS, `one stream per client: ${streams.join(", ")}`);
  assert.deepEqual(watches, [], "no long-poll beside the streams");
  assert.equal(run.heldAfter, 0);

  const alongside = run.app.filter((request) => request.heldThen === CLIENTS);
  assert.ok(alongside.length >= 1, `an app request made while the ${CLIENTS} streams were held: ${JSON.stringify(run.app)}`);
  assert.ok(run.app.every((request) => request.status === 201), "every app request answered");

  // The server's own count: never more held than one per client.
  const { maxHeld, starts } = heldTimeline(server.stderr());
  assert.equal(starts, CLIENTS, "the server saw one held request per client");
  assert.equal(maxHeld, CLIENTS);
});
