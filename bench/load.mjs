#!/usr/bin/env node
// Load, loopback only, bounded in count and time (run by `make bench` after the release build):
//  1. GET /jobs/{id} with wrk at 256 connections for 10 s, while 1,000 long-polls are held on
//     another job and a second wrk creates jobs with POST /jobs: throughput, p99, errors.
//  2. A flood of POST /jobs for 20 s against a server keeping jobs 1 s after their end:
//     its memory sampled every second stays flat, because jobs expire.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startServer } from "../tests/helpers.mjs";
import { parseWrk, RELEASE_SERVER, releaseExample, rssMiB } from "./measure.mjs";

const execFileAsync = promisify(execFile);
const SERVER = RELEASE_SERVER;
const FLOOD = releaseExample("long_poll_flood");
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const FLOOD_SECONDS = Number(process.env.BENCH_POST_FLOOD_SECONDS ?? 20);

const createJobScript = fs.mkdtempSync(path.join(os.tmpdir(), "vts-wrk-")) + "/post-job.lua";
fs.writeFileSync(
  createJobScript,
  'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = \'{"duration_ms": 1000}\'\n',
);

const wrk = (args) => execFileAsync("wrk", args, { timeout: (SECONDS + 60) * 1000 }).then(({ stdout }) => parseWrk(stdout));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// 1. Mixed load.
console.log(`Mixed load for ${SECONDS} s: wrk -t2 -c256 GET /jobs/{id}, with 1,000 long-polls held and jobs being created (2 cores shared by all)\n`);
const server = await startServer(["--max-wait", "60"], { bin: SERVER, quiet: true, logLevel: "warn" });
let mixed;
try {
  const job = await (await fetch(`${server.url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ duration_ms: 3_600_000 }) })).json();
  // The flood tool holds 1,000 long-polls on its own job, which ends well after the load.
  const holding = spawn(FLOOD, [server.url, String(server.pid), "1000", String((SECONDS + 8) * 1000)], { stdio: ["ignore", "pipe", "inherit"] });
  let floodOut = "";
  holding.stdout.on("data", (chunk) => (floodOut += chunk));
  const held = new Promise((resolve) => holding.once("exit", resolve));
  await sleep(3_000); // all 1,000 connected and waiting
  const [reads, creates] = await Promise.all([
    wrk(["-t2", "-c256", `-d${SECONDS}s`, "--latency", `${server.url}/jobs/${job.id}`]),
    wrk(["-t1", "-c4", `-d${SECONDS}s`, "--latency", "-s", createJobScript, `${server.url}/jobs`]),
  ]);
  await held;
  const flood = Object.fromEntries(floodOut.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)]));
  mixed = { reads, creates, flood };
} finally {
  await server.stop();
}
const { reads, creates, flood } = mixed;
console.log("| traffic | requests | requests/s | p99 latency | errors |");
console.log("|---|---|---|---|---|");
console.log(`| GET /jobs/{id}, 256 connections | ${reads.requests.toLocaleString("en")} | ${Math.round(reads.rps).toLocaleString("en")} | ${reads.p99Ms.toFixed(2)} ms | ${reads.non2xx + reads.socketErrors} |`);
console.log(`| POST /jobs, 4 connections | ${creates.requests.toLocaleString("en")} | ${Math.round(creates.rps).toLocaleString("en")} | ${creates.p99Ms.toFixed(2)} ms | ${creates.non2xx + creates.socketErrors} |`);
console.log(`| long-polls held through it | ${flood.held_before_end} | | | ${flood.held_before_end - flood.completed} not answered completed |`);

// 2. POST flood, memory sampled.
console.log(`\nPOST /jobs flood for ${FLOOD_SECONDS} s (wrk -t2 -c32, 1 s jobs) against --job-ttl 1: server memory every 2 s\n`);
const flooded = await startServer(["--job-ttl", "1"], { bin: SERVER, quiet: true, logLevel: "warn" });
let samples = [];
let posts;
try {
  const sampling = (async () => {
    for (let t = 0; t <= FLOOD_SECONDS; t += 2) {
      samples.push({ t, rss: rssMiB(flooded.pid) });
      await sleep(2_000);
    }
  })();
  posts = await execFileAsync("wrk", ["-t2", "-c32", `-d${FLOOD_SECONDS}s`, "-s", createJobScript, `${flooded.url}/jobs`], { timeout: (FLOOD_SECONDS + 60) * 1000 }).then(({ stdout }) => parseWrk(stdout));
  await sampling;
} finally {
  await flooded.stop();
}
console.log(`| ${samples.map((s) => `${s.t} s`).join(" | ")} |`);
console.log(`|${samples.map(() => "---").join("|")}|`);
console.log(`| ${samples.map((s) => `${s.rss.toFixed(1)} MiB`).join(" | ")} |`);
console.log(
  `\n${posts.requests.toLocaleString("en")} requests (${Math.round(posts.rps).toLocaleString("en")}/s): ` +
    `${(posts.requests - posts.non2xx).toLocaleString("en")} jobs created, ${posts.non2xx.toLocaleString("en")} refused with 503 ` +
    `at the --max-jobs cap (100,000 kept at once), ${posts.socketErrors} socket errors`,
);

const later = samples.filter((s) => s.t >= 4).map((s) => s.rss);
const growth = Math.max(...later) - Math.min(...later);
console.log("\nTargets:");
const verdict = (met, text) => console.log(`  ${met ? "met    " : "MISSED "} ${text}`);
verdict(
  reads.non2xx + reads.socketErrors + creates.non2xx + creates.socketErrors === 0 && flood.completed === 1000,
  `zero errors under mixed load (${reads.non2xx + reads.socketErrors + creates.non2xx + creates.socketErrors} HTTP or socket errors; ${flood.completed} of 1,000 long-polls answered completed)`,
);
verdict(growth < 16, `memory flat under a POST flood once jobs expire: ${growth.toFixed(1)} MiB between the highest and lowest sample after 4 s`);
