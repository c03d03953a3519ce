#!/usr/bin/env node
// The pages in headless Chromium, loopback only: how long things take there, which the page
// tests (tests/demo-page.test.mjs, tests/many-jobs-page.test.mjs) do not assert, as a busy
// machine stretches every one of them. Figures only, no target.
//  1. The demo page (www/) starting 100 jobs of 4 s (spread × 0.5–1.5) at once: how late a
//     50 ms timer on its main thread fired at worst while they ran, and how many ran at once.
//  2. The many-jobs page of tests/many-jobs-page.mjs (50 jobs through one client while the
//     app creates and reads jobs every 250 ms): the creation round trips, the app's requests,
//     how late each end was seen after it happened, and the moments the server held more
//     than one request (the hand-overs).
// BENCH_PAGE_RUNS runs each part that many times (default 3), a fresh server each.
import { launchChromium, startServer } from "../tests/helpers.mjs";
import { heldTimeline } from "../tests/held-requests.mjs";
import { runManyJobs, startManyJobsPage } from "../tests/many-jobs-page.mjs";
import { median } from "./measure.mjs";

const RUNS = Number(process.env.BENCH_PAGE_RUNS ?? 3);
const ms = (value) => `${value.toFixed(1)} ms`;
const max = (values) => Math.max(...values);
const p50 = (values) => median(values);

/** Part 1: one run of 100 jobs in the demo page; resolves its worst main-thread lag and peak. */
async function demoPage(context) {
  const server = await startServer(["--delay", "30"], { quiet: true });
  const page = await context.newPage();
  try {
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
    await page.evaluate(() => {
      window.lag = 0;
      window.peak = 0;
      let last = performance.now();
      window.lagTimer = setInterval(() => {
        const now = performance.now();
        window.lag = Math.max(window.lag, now - last - 50);
        window.peak = Math.max(window.peak, document.querySelectorAll(".job[data-state=pending]").length);
        last = now;
      }, 50);
    });
    await page.fill("input[name=duration]", "4");
    await page.fill("input[name=count]", "100");
    await page.check("input[name=spread]");
    await page.click("#start");
    await page.waitForFunction(
      () => document.querySelectorAll(".job").length === 100 && [...document.querySelectorAll(".job")].every((card) => card.dataset.state === "completed"),
      null,
      { timeout: 60_000, polling: 100 },
    );
    return await page.evaluate(() => (clearInterval(window.lagTimer), { lag: window.lag, peak: window.peak }));
  } finally {
    await page.close();
    await server.stop();
  }
}

/** Part 2: one run of the many-jobs page; resolves its figures. */
async function manyJobsPage(context) {
  const served = await startManyJobsPage();
  try {
    const run = await runManyJobs(context, served.server);
    const timeline = heldTimeline(served.server.stderr());
    return {
      creation: run.jobs.map((job) => job.creationRttMs),
      app: run.app.map((request) => request.ms),
      lateness: run.jobs.map((job) => job.seenAt - job.trueEnd),
      overlaps: timeline.overlaps.map((overlap) => overlap.ms),
      maxHeld: timeline.maxHeld,
    };
  } finally {
    await served.stop();
  }
}

const context = await launchChromium();
try {
  console.log(`Pages in headless Chromium, ${RUNS} runs of each part, a fresh server each (2 cores shared by all)\n`);
  console.log("The demo page, 100 jobs of 4 s (× 0.5–1.5) started at once\n");
  console.log("| run | main thread: worst lateness of a 50 ms timer | jobs running at once (peak) |\n|---|---|---|");
  for (let i = 0; i < RUNS; i += 1) {
    const { lag, peak } = await demoPage(context);
    console.log(`| ${i + 1} | ${ms(lag)} | ${peak} |`);
  }

  console.log("\nThe many-jobs page: 50 jobs through one client while the app creates and reads a job every 250 ms\n");
  console.log(
    "| run | creating a job: p50 / max | app requests: p50 / max | end seen after it happened: p50 / max | " +
      "server: most held at once | moments two or more held: count, longest, total |\n|---|---|---|---|---|---|",
  );
  for (let i = 0; i < RUNS; i += 1) {
    const r = await manyJobsPage(context);
    const total = r.overlaps.reduce((sum, value) => sum + value, 0);
    console.log(
      `| ${i + 1} | ${ms(p50(r.creation))} / ${ms(max(r.creation))} | ${ms(p50(r.app))} / ${ms(max(r.app))} | ` +
        `${ms(p50(r.lateness))} / ${ms(max(r.lateness))} | ${r.maxHeld} | ${r.overlaps.length}, ${ms(max([0, ...r.overlaps]))}, ${ms(total)} |`,
    );
  }
} finally {
  await context.close();
}
