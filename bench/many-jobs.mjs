#!/usr/bin/env node
// Many jobs, one client: 1,000 jobs whose ends are spread over 10 minutes, watched by ONE
// `VideoTranslationClient` (every wait shares its one watch loop: at most one held request),
// against the per-job strategy (a client per job, each holding its own long-poll), in the
// same run, against the same server, on the same true durations.
//
// Per strategy: requests per job (every HTTP request its clients sent, divided by the jobs;
// a watch of many ids is one request), requests in flight at once (max, and the mean over
// the run), held-connection seconds per job, and detection lateness. Requests are counted
// by wrapping the global `fetch` the client calls (bench/fetch-meter.mjs): a request in
// flight is a connection in use, whether the server holds it or is answering it.
//
// Each job truly lasts T ~ U(10 s, 610 s) and the server estimates T / U(0.8, 1.2) (off by
// up to ±20 %). Default options of the client (adaptive), times scaled.
// BENCH_SCALE (default 1: about 10.5 minutes) scales time as in bench/polling.mjs and scales
// the figures back, which multiplies fixed latencies by 1 / BENCH_SCALE.
//
//   BENCH_SCALE=0.1 node bench/many-jobs.mjs      about a minute
import { installFetchMeter } from "./fetch-meter.mjs";
import { createJob, machineNow } from "./measure.mjs";
import { loadClient, startServer } from "../tests/helpers.mjs";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const JOBS = Number(process.env.BENCH_MANY_JOBS ?? 1000);
const [FIRST_END_S, LAST_END_S] = [10, 610];
const SERVER_MAX_WAIT_S = 30;
const ONE = "one client, every job";
const PER_JOB = "a client per job";

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uniform = (low, high) => low + Math.random() * (high - low);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const server = await startServer(["--max-wait", String(SERVER_MAX_WAIT_S * SCALE)]);
const { VideoTranslationClient } = await loadClient();
const strategyOf = new Map();
const meter = installFetchMeter((id) => strategyOf.get(id));
const options = {
  initialDelayMs: 1000 * SCALE,
  maxDelayMs: 15_000 * SCALE,
  longPollWaitMs: 30_000 * SCALE,
  maxWaitMs: 7_200_000 * SCALE,
};

console.log(
  `Many jobs: ${JOBS.toLocaleString("en")} jobs per strategy, true ends spread uniformly over ${FIRST_END_S}–${LAST_END_S} s, ` +
    `server estimates off by up to ±20 %; both strategies at once, adaptive mode (the default).\n` +
    (SCALE === 1 ? "Full-scale time.\n" : `Time scaled by ${SCALE}; figures scaled back, which multiplies fixed latencies by ${(1 / SCALE).toFixed(0)}.\n`) +
    `${machineNow()}.`,
);

// The same true durations for both strategies; jobs created 32 at a time, alternating.
const durations = Array.from({ length: JOBS }, () => {
  const actualMs = Math.round(uniform(FIRST_END_S, LAST_END_S) * 1000 * SCALE);
  return { actualMs, estimateMs: Math.round(actualMs / uniform(0.8, 1.2)) };
});
const jobs = { [ONE]: [], [PER_JOB]: [] };
for (let i = 0; i < JOBS; i += 32) {
  await Promise.all(
    durations.slice(i, i + 32).flatMap(({ actualMs, estimateMs }) =>
      [ONE, PER_JOB].map(async (strategy) => {
        const job = await createJob(server.url, actualMs, estimateMs);
        strategyOf.set(job.id, strategy);
        jobs[strategy].push(job);
      }),
    ),
  );
}

// Every wait starts now, in one go.
const started = now();
const endedBeforeStart = Object.values(jobs).flat().filter((job) => job.endsAt < started).length;
const settle = (promise, job) =>
  promise.then(
    () => ({ lateness: (now() - job.endsAt) / SCALE }),
    (error) => ({ lateness: null, error: error?.name }),
  );
const shared = new VideoTranslationClient(server.url, options);
const waits = {
  [ONE]: jobs[ONE].map((job) => settle(shared.waitForCompletion(job.id), job)),
  [PER_JOB]: jobs[PER_JOB].map((job) => settle(new VideoTranslationClient(server.url, options).waitForCompletion(job.id), job)),
};
// The shared client's own count of what it holds, as a cross-check of the fetch meter.
let sharedHeldMax = 0;
let sampling = true;
(async () => {
  while (sampling) {
    sharedHeldMax = Math.max(sharedHeldMax, shared.heldRequests);
    await sleep(20);
  }
})();
const results = {};
for (const strategy of [ONE, PER_JOB]) results[strategy] = await Promise.all(waits[strategy]);
sampling = false;
const runS = (now() - started) / 1000;
await server.stop();
meter.uninstall();

console.log(`\nran ${runS.toFixed(1)} s real time; ${endedBeforeStart} jobs had ended before the waits began (creation took that long)\n`);
console.log("| strategy | requests per job | requests in flight at once: max / mean | held-connection s per job | lateness p50 / p99 | gave up |");
console.log("|---|---|---|---|---|---|");
const fmtTime = (ms) => (!Number.isFinite(ms) ? "—" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const summary = {};
for (const strategy of [ONE, PER_JOB]) {
  const { requests, maxInFlight, meanInFlight } = meter.group(strategy, started);
  const heldS = jobs[strategy].reduce((sum, job) => sum + meter.job(job.id).heldMs, 0) / 1000 / SCALE / JOBS;
  const lateness = results[strategy].filter((r) => r.lateness !== null).map((r) => Math.max(0, r.lateness)).sort((a, b) => a - b);
  const gaveUp = JOBS - lateness.length;
  summary[strategy] = { requests: requests / JOBS, maxInFlight, meanInFlight, p99: percentile(lateness, 99) };
  console.log(
    `| ${strategy} | ${(requests / JOBS).toFixed(2)} (${requests.toLocaleString("en")} in all) | ${maxInFlight} / ${meanInFlight.toFixed(1)} | ` +
      `${heldS.toFixed(1)} s | ${fmtTime(percentile(lateness, 50))} / ${fmtTime(percentile(lateness, 99))} | ${gaveUp} of ${JOBS} |`,
  );
}
// Held seconds of the one client's watch are counted for every job it carried, so they add
// up to more than the time it held: per job they say how long each job was being watched.
console.log(
  `\nThe shared client's heldRequests getter, sampled every 20 ms: at most ${sharedHeldMax}. ` +
    `Held seconds count a watch once for each job it carried.`,
);
console.log("\nFacts (no target set):");
console.log(
  `  one client: ${summary[ONE].requests.toFixed(2)} requests per job and at most ${summary[ONE].maxInFlight} in flight; ` +
    `a client per job: ${summary[PER_JOB].requests.toFixed(2)} and at most ${summary[PER_JOB].maxInFlight}; ` +
    `p99 lateness ${fmtTime(summary[ONE].p99)} vs ${fmtTime(summary[PER_JOB].p99)}`,
);
