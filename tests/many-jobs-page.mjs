// Issue 10's scenario in a real browser, shared by tests/many-jobs-page.test.mjs (which asserts
// what it shows) and bench/pages.mjs (which prints how long things took): one page, served by
// the real server over plain HTTP/1.1, watches 50 jobs through ONE client while it goes on
// using the API as an app does.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PKG_DIR, startServer } from "./helpers.mjs";

export const JOBS = 50;
/** Durations spread evenly over 3–12 s, in a shuffled order so ends do not follow creation. */
export const DURATIONS = Array.from({ length: JOBS }, (_, i) => 3000 + Math.round((9000 * ((i * 17) % JOBS)) / (JOBS - 1)));

// The page: plain ES module, the package from /pkg/ as the demo page loads it. It exposes
// one function that runs the whole scenario and resolves what it saw: per job its creation
// round trip, when its end was seen and the update before it; per app request its kind,
// status, time and whether the client held its watch when it was sent and when answered.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>many jobs</title></head>
<body><p id="state">loading</p>
<script type="module">
  import init, { VideoTranslationClient } from "/pkg/video_translation_client.js";
  await init();

  const json = { "content-type": "application/json" };

  window.runMany = async (durations) => {
    const client = new VideoTranslationClient(location.origin);
    const held = [];
    const sampler = setInterval(() => held.push(client.heldRequests), 10);
    /** An app request, timed from before fetch to the end of its body. */
    async function appRequest(kind, url, options) {
      const started = performance.now();
      const heldWhenSent = client.heldRequests;
      const response = await fetch(url, options);
      await response.text();
      return { kind, status: response.status, ms: performance.now() - started, heldWhenSent, heldWhenAnswered: client.heldRequests };
    }
    const jobs = [];
    const waits = [];
    // The app goes on all along, while jobs join the watch too: every 250 ms it creates a job
    // (not watched) and reads one of the watched ones.
    const app = [];
    const ticker = setInterval(() => {
      app.push(appRequest("create", "/jobs", { method: "POST", headers: json, body: JSON.stringify({ duration_ms: 600000 }) }));
      if (jobs.length > 0) app.push(appRequest("read", "/jobs/" + jobs[Math.floor(Math.random() * jobs.length)].id));
    }, 250);
    for (const durationMs of durations) {
      const sent = performance.now();
      const job = await client.createJob({ durationMs, outcome: "completed" });
      const answered = performance.now();
      const record = { id: job.id, durationMs, trueEnd: (sent + answered) / 2 + durationMs, creationRttMs: answered - sent, updates: [] };
      jobs.push(record);
      waits.push(client.waitForCompletion(job.id, {
        onUpdate(update) {
          held.push(client.heldRequests);
          record.updates.push({ result: update.result, nextPollInMs: update.nextPollInMs, nextPollWaitMs: update.nextPollWaitMs });
          if (update.result !== "pending") record.seenAt = performance.now();
        },
      }).then((outcome) => (record.outcome = outcome)));
    }

    await Promise.all(waits);
    clearInterval(ticker);
    clearInterval(sampler);
    held.push(client.heldRequests);
    const appResults = await Promise.all(app);
    document.getElementById("state").textContent = "done";
    return { jobs, app: appResults, held, finalHeld: client.heldRequests };
  };
  document.getElementById("state").textContent = "ready";
</script></body></html>`;

/**
 * The real server serving the page above (and the package at /pkg/), logging each held
 * request's start and end (debug level for the store: the server's own count). Resolves
 * `{ server, stop() }`.
 */
export async function startManyJobsPage() {
  const www = fs.mkdtempSync(path.join(os.tmpdir(), "vts-many-jobs-"));
  fs.writeFileSync(path.join(www, "index.html"), PAGE);
  const server = await startServer(["--www-dir", www, "--pkg-dir", PKG_DIR], { logLevel: "warn,video_translation_server::store=debug" });
  return {
    server,
    async stop() {
      await server.stop();
      fs.rmSync(www, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the scenario in a new page of the Chromium `context` against `server`. Resolves what
 * the page saw (see PAGE), the requests it sent by kind, and any console errors.
 */
export async function runManyJobs(context, server) {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  const requests = { watch: 0, status: 0, create: 0 };
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (pathname === "/jobs/watch") requests.watch += 1;
    else if (pathname === "/jobs") requests.create += 1;
    else if (pathname.startsWith("/jobs/")) requests.status += 1;
  });
  await page.goto(server.url);
  await page.locator("#state", { hasText: "ready" }).waitFor({ timeout: 10_000 });
  const run = await page.evaluate((durations) => window.runMany(durations), DURATIONS);
  await page.close();
  return { ...run, requests, errors };
}
