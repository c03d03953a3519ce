#!/usr/bin/env node
// Requests per job against detection lateness, for every strategy, on the same simulated
// jobs, against the real server, in one run; for ours, also as the server's estimate errs.
//
// Every job of column D truly lasts T = D × U(0.8, 1.2); the same draws serve every row.
// What changes between rows is the estimate the server reports (`estimate_ms`):
//   - "0.8–1.2×" (the case of earlier runs): the server estimates D, so the job ends at
//     0.8 to 1.2 times its estimate. The anchors run here only: they take no hints, so the
//     estimate does not matter to them.
//   - a fixed factor f (0.1×, 0.25×, 0.5×, 2×, 3×): the server estimates T / f, so the job
//     ends at exactly f times its estimate (0.1×: far sooner than said; 3×: far later).
// Keeping T and moving the estimate keeps every row's jobs the same and the run as long as
// the longest true job, not three times it.
//
// Each watched job has its own client (`new VideoTranslationClient` per job), as each anchor
// watches one job alone: a client shares one watch between its jobs, which would make per-job
// figures mean something else (bench/many-jobs.mjs measures that). A long-poll or a watch is
// one request. Held-connection seconds are the time our requests that asked for a wait
// (`?wait=`) were in flight, measured by wrapping the global `fetch` the client calls
// (bench/fetch-meter.mjs); the anchors hold nothing (plain GETs answered at once).
//
// One duration at a time; within it every strategy and every estimate factor at once. By
// default time runs at full scale (about 95 minutes: 14 the 600 s group, which the AWS
// waiter's 120 s gaps stretch, and 73 the hour's).
// BENCH_SCALE=0.2 scales it down uniformly and scales every figure back up; that also
// multiplies fixed latencies (a loopback round trip, the event loop) by 5, which inflates the
// few milliseconds of lateness that adaptive mode has: use it for a quick look.
//
//   BENCH_SCALE=0.2 BENCH_DURATIONS=2,10 node bench/polling.mjs     a quick look
import fs from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { ANCHORS } from "./strategies.mjs";
import { pollingChart } from "./svg.mjs";
import { installFetchMeter, realFetch } from "./fetch-meter.mjs";
import { createJob, loadAverage, machineNow } from "./measure.mjs";
import { loadClient, REPO, startServer } from "../tests/helpers.mjs";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const DURATIONS_S = (process.env.BENCH_DURATIONS ?? "2,10,30,120,600,3600").split(",").map(Number);
const UNIFORM = "0.8–1.2×";
/** The estimate error rows: the factor by which a job's true end exceeds its estimate. */
const FACTORS = [
  { label: "0.1×", factor: 0.1 },
  { label: "0.25×", factor: 0.25 },
  { label: "0.5×", factor: 0.5 },
  { label: UNIFORM, factor: null },
  { label: "2×", factor: 2 },
  { label: "3×", factor: 3 },
];
const SERVER_MAX_WAIT_S = 30;
const CREATION_WINDOW_MS = Number(process.env.BENCH_CREATION_WINDOW_MS ?? 6000);
const RESULTS = path.join(REPO, "bench", "results");
const STREAM = "ours, stream";
const ADAPTIVE = "ours, long-polls (stream: false)";
const PLAIN = "ours, plain (no hints)";

const now = () => performance.now();
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uniform = (low, high) => low + Math.random() * (high - low);

const server = await startServer(["--max-wait", String(SERVER_MAX_WAIT_S * SCALE)]);
const { VideoTranslationClient } = await loadClient();
const meter = installFetchMeter();

/** Polls with an anchor's schedule (scaled), plain GETs, as its library would. */
async function watchWithSchedule(schedule, id) {
  const url = `${server.url}/jobs/${id}`;
  const start = now();
  for (let attempt = 1; ; attempt += 1) {
    const body = await (await realFetch(url)).json();
    if (body.result !== "pending") return { requests: attempt, heldMs: 0, seenAt: now() };
    const delay = schedule.nextDelay(attempt, (now() - start) / SCALE);
    if (delay === null) return { requests: attempt, heldMs: 0, seenAt: null };
    await sleep(delay * SCALE);
  }
}

/** Our client's defaults, scaled; `adaptive` and `stream` pick the mode. One client per watched job. */
async function watchWithOurs({ adaptive, stream }, id) {
  const client = new VideoTranslationClient(server.url, {
    adaptive,
    stream,
    initialDelayMs: 1000 * SCALE,
    maxDelayMs: 15_000 * SCALE,
    longPollWaitMs: 30_000 * SCALE,
    maxWaitMs: 7_200_000 * SCALE,
  });
  let seenAt = null;
  let attempts = null;
  try {
    const outcome = await client.waitForCompletion(id);
    seenAt = now();
    attempts = outcome.attempts;
  } catch (error) {
    if (error?.name !== "TimeoutError") throw error;
  }
  const { requests, heldMs } = meter.job(id);
  return { requests, heldMs, seenAt, attempts };
}

const STRATEGIES = [
  ...ANCHORS.map((schedule) => ({ name: schedule.name, anchor: true, watch: (id) => watchWithSchedule(schedule, id) })),
  { name: PLAIN, watch: (id) => watchWithOurs({ adaptive: false, stream: false }, id) },
  { name: ADAPTIVE, watch: (id) => watchWithOurs({ adaptive: true, stream: false }, id) },
  { name: STREAM, watch: (id) => watchWithOurs({ adaptive: true, stream: true }, id) },
];
/** What runs: the anchors on the 0.8–1.2× estimates only, ours on every factor. */
const CASES = FACTORS.flatMap(({ label, factor }) =>
  STRATEGIES.filter((s) => !s.anchor || factor === null).map((strategy) => ({ strategy, label, factor })),
);

// The same true durations for every row: one per (D, i).
const jobs = DURATIONS_S.flatMap((durationS) =>
  Array.from({ length: JOBS }, () => ({ durationS, actualMs: Math.round(durationS * 1000 * SCALE * uniform(0.8, 1.2)) })),
);
const estimateOf = (job, factor) => (factor === null ? Math.round(job.durationS * 1000 * SCALE) : Math.round(job.actualMs / factor));

console.log(
  `Polling strategies: ${JOBS} jobs per duration and row, true duration T = D × U(0.8, 1.2) (the same draws in every row).\n` +
    `Rows "${UNIFORM}": the server estimates D (earlier runs' case). Rows f×: the server estimates T / f, so the job ends at f × its estimate.\n` +
    `The anchors take no hints and run on the ${UNIFORM} row only; ours get the server's hints (plain mode ignores them). One client per watched job.\n` +
    (SCALE === 1
      ? "Full-scale time.\n"
      : `Time scaled by ${SCALE} (a 600 s job runs ${600 * SCALE} s); figures are scaled back to full scale, ` +
        `which also multiplies fixed latencies by ${(1 / SCALE).toFixed(1)}.\n`) +
    `Server: long-polls capped at ${SERVER_MAX_WAIT_S * SCALE} s. One duration at a time, every row of it at once ` +
    `(${CASES.length * JOBS} watches). ${machineNow()}.`,
);

/** Every case on every job of `group`, all at once; one sample per watch. */
async function runGroup(group) {
  return Promise.all(
    CASES.flatMap(({ strategy, label, factor }) =>
      group.map(async (job) => {
        // Spread the creations: each job is timed from its own start, and a burst would
        // measure this process's backlog instead of the strategies.
        await sleep(Math.random() * CREATION_WINDOW_MS);
        const { id, endsAt, roundTripMs } = await createJob(server.url, job.actualMs, estimateOf(job, factor));
        const { requests, heldMs, seenAt, attempts } = await strategy.watch(id);
        return {
          strategy: strategy.name,
          factor: label,
          durationS: job.durationS,
          requests,
          attempts,
          heldS: heldMs / 1000 / SCALE,
          latenessMs: seenAt === null ? null : (seenAt - endsAt) / SCALE,
          roundTripMs,
        };
      }),
    ),
  );
}

// Warm up (not recorded): connections, the JIT and the wasm module's first calls.
await runGroup(jobs.filter((job) => job.durationS === DURATIONS_S[0]).slice(0, 5));

const started = now();
const samples = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
// One duration at a time: the event loop of this process is what times every detection.
for (const durationS of DURATIONS_S) {
  const group = jobs.filter((job) => job.durationS === durationS);
  const groupStarted = now();
  loopDelay.reset();
  loopDelay.enable();
  const results = await runGroup(group);
  loopDelay.disable();
  samples.push(...results);
  const trips = results.map((r) => r.roundTripMs).sort((a, b) => a - b);
  console.log(
    `  D = ${durationS} s: ${results.length} watches in ${((now() - groupStarted) / 1000).toFixed(1)} s; ` +
      `job creation round trip p50 ${percentile(trips, 50).toFixed(1)} ms, p99 ${percentile(trips, 99).toFixed(1)} ms; ` +
      `event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms (real time); ` +
      `load average at its end ${loadAverage()}`,
  );
}
await server.stop();
meter.uninstall();
const mismatched = samples.filter((s) => s.attempts !== null && s.attempts !== undefined && s.attempts !== s.requests).length;
console.log(
  `done in ${((now() - started) / 1000).toFixed(1)} s; ours: requests sent per job differ from outcome.attempts for ${mismatched} of ` +
    `${samples.filter((s) => s.attempts !== undefined).length} watches\n`,
);

const rows = [];
for (const { strategy, label } of CASES) {
  for (const durationS of DURATIONS_S) {
    const mine = samples.filter((s) => s.strategy === strategy.name && s.factor === label && s.durationS === durationS);
    const seen = mine.filter((s) => s.latenessMs !== null);
    const lateness = seen.map((s) => Math.max(0, s.latenessMs)).sort((a, b) => a - b);
    const mean = (values) => (values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : NaN);
    rows.push({
      strategy: strategy.name,
      anchor: Boolean(strategy.anchor),
      factor: label,
      durationS,
      gaveUp: (mine.length - seen.length) / mine.length,
      requests: mean(seen.map((s) => s.requests)),
      heldS: mean(seen.map((s) => s.heldS)),
      p50Ms: seen.length ? percentile(lateness, 50) : NaN,
      p99Ms: seen.length ? percentile(lateness, 99) : NaN,
    });
  }
}

const fmtTime = (ms) => (!Number.isFinite(ms) ? "—" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const fmtHeld = (s) => (s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`);
const cell = (row) => {
  const requests = Number.isFinite(row.requests) ? `${row.requests.toFixed(1)} (${fmtHeld(row.heldS)})` : "—";
  const gaveUp = row.gaveUp > 0 ? ` · ${Math.round(row.gaveUp * 100)} % gave up` : "";
  return `${requests} / ${fmtTime(row.p50Ms)} / ${fmtTime(row.p99Ms)}${gaveUp}`;
};
console.log(
  "Mean requests per job (held-connection seconds per job) / detection lateness p50 / p99, full-scale time; " +
    "requests, held seconds and lateness over the jobs seen, and the share that gave up\n",
);
console.log(`| strategy | job ends at | ${DURATIONS_S.map((d) => `D = ${d} s`).join(" | ")} |`);
console.log(`|---|---|${DURATIONS_S.map(() => "---").join("|")}|`);
const find = (name, label, d) => rows.find((r) => r.strategy === name && r.factor === label && r.durationS === d);
const printRow = (name, label) =>
  console.log(`| ${name} | ${label}${name.startsWith("ours") || label !== UNIFORM ? "" : " (no hints)"} | ${DURATIONS_S.map((d) => cell(find(name, label, d))).join(" | ")} |`);
for (const schedule of ANCHORS) printRow(schedule.name, UNIFORM);
for (const { label } of FACTORS) for (const name of [STREAM, ADAPTIVE, PLAIN]) printRow(name, label);

// The targets, checked on this run's figures, for every cell.
const verdicts = [];
for (const d of DURATIONS_S) {
  const ours = find(ADAPTIVE, UNIFORM, d);
  const anchors = rows.filter((r) => r.anchor && r.durationS === d && r.gaveUp <= 0.5);
  const fewest = anchors.reduce((best, r) => (r.requests < best.requests ? r : best));
  verdicts.push([
    `(a) long-polls, ${UNIFORM}, D = ${d} s: ${ours.requests.toFixed(1)} requests < ${fewest.requests.toFixed(1)} (${fewest.strategy}, ` +
      `the fewest of the anchors that do not give up on most jobs), p99 ${fmtTime(ours.p99Ms)} ≤ 50 ms, none gave up`,
    ours.gaveUp === 0 && ours.requests < fewest.requests && ours.p99Ms <= 50,
  ]);
}
for (const { label } of FACTORS) {
  for (const d of DURATIONS_S) {
    const a = find(ADAPTIVE, label, d);
    const p = find(PLAIN, label, d);
    verdicts.push([
      `(b) ${label}, D = ${d} s: long-polls' p99 ${fmtTime(a.p99Ms)} ≤ plain's ${fmtTime(p.p99Ms)}, ` +
        `long-polls ${a.requests.toFixed(1)} requests ≤ plain's ${p.requests.toFixed(1)} + 2, long-polls gave up ${Math.round(a.gaveUp * 100)} %`,
      a.gaveUp === 0 && a.p99Ms <= p.p99Ms && a.requests <= p.requests + 2,
    ]);
  }
}
for (const { label } of FACTORS) {
  for (const d of DURATIONS_S) {
    const stream = find(STREAM, label, d);
    verdicts.push([
      `(s) stream, ${label}, D = ${d} s: ${stream.requests.toFixed(2)} requests ≤ 2, p99 ${fmtTime(stream.p99Ms)} ≤ 50 ms, none gave up`,
      stream.gaveUp === 0 && stream.requests <= 2 && stream.p99Ms <= 50,
    ]);
  }
}
for (const d of DURATIONS_S) {
  const mine = find(PLAIN, UNIFORM, d);
  const google = find("Google api-core", UNIFORM, d);
  verdicts.push([
    `plain, ${UNIFORM}, D = ${d} s: ${mine.requests.toFixed(1)} < ${google.requests.toFixed(1)} requests and p99 ${fmtTime(mine.p99Ms)} < ${fmtTime(google.p99Ms)} (Google api-core)`,
    mine.gaveUp === 0 && mine.requests < google.requests && mine.p99Ms < google.p99Ms,
  ]);
}
console.log("\nTargets:");
for (const [text, met] of verdicts) console.log(`  ${met ? "met    " : "MISSED "} ${text}`);

fs.mkdirSync(RESULTS, { recursive: true });
fs.writeFileSync(
  path.join(RESULTS, "polling.json"),
  JSON.stringify({ scale: SCALE, jobs: JOBS, factors: FACTORS.map((f) => f.label), rows }, null, 2) + "\n",
);
const svg = pollingChart(
  rows.filter((r) => r.factor === UNIFORM && r.gaveUp <= 0.5),
  STRATEGIES.map((s) => s.name),
  DURATIONS_S,
  `Requests per job vs p99 detection lateness (${JOBS} jobs each, job ends at 0.8–1.2× the estimate, time scale ${SCALE})`,
);
fs.writeFileSync(path.join(RESULTS, "polling.svg"), svg);
console.log(`\nwrote bench/results/polling.svg and polling.json`);
