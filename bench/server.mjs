#!/usr/bin/env node
// Server benchmarks, loopback only, bounded in count and time:
//  1. GET /jobs/{id} throughput with wrk against a bare actix-web handler, in the same run,
//     with request logs off (RUST_LOG=warn) and on (info, written to /dev/null);
//  2. 10,000 long-polls held on one job: how soon after the job's end each is answered, and
//     the server's memory while they are held.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { REPO, startServer } from "../tests/helpers.mjs";

const run = promisify(execFile);
const RELEASE = path.join(REPO, "target", "release");
const SERVER = path.join(RELEASE, "video-translation-server");
const BARE = path.join(RELEASE, "examples", "bare_actix");
const FLOOD = path.join(RELEASE, "examples", "long_poll_flood");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 4);
const WAITERS = Number(process.env.BENCH_WAITERS ?? 10_000);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One wrk run: requests per second and p99 latency. */
async function wrk(url) {
  const { stdout } = await run("wrk", ["-t2", "-c64", `-d${SECONDS}s`, "--latency", url], { timeout: (SECONDS + 30) * 1000 });
  const rps = Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const p99 = stdout.match(/\s99%\s+([\d.]+)(us|ms|s)/);
  const p99Ms = p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN;
  const errors = stdout.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? "0";
  return { rps, p99Ms, errors: Number(errors) };
}

async function jobUrl(server) {
  const response = await fetch(`${server.url}/jobs`, { method: "POST", body: JSON.stringify({ duration_ms: 3_600_000 }) });
  return `${server.url}${response.headers.get("location")}`;
}

console.log(`GET /jobs/{id} throughput: wrk -t2 -c64, ${SECONDS} s per run, ${ROUNDS} rounds, median shown (2 cores shared by wrk and the server)\n`);
const targets = [
  { name: "bare actix-web handler (constant JSON)", start: () => startServer([], { bin: BARE, quiet: true }), url: async (s) => `${s.url}/jobs/0123456789abcdef0123456789abcdef` },
  { name: "video-translation-server, RUST_LOG=warn", start: () => startServer([], { bin: SERVER, quiet: true, logLevel: "warn" }), url: jobUrl },
  { name: "video-translation-server, RUST_LOG=info", start: () => startServer([], { bin: SERVER, quiet: true, logLevel: "info" }), url: jobUrl },
];
const measured = targets.map(() => []);
for (let round = 0; round < ROUNDS; round += 1) {
  // Interleaved, so drift on a shared machine affects every target alike.
  for (const [i, target] of targets.entries()) {
    const server = await target.start();
    try {
      measured[i].push(await wrk(await target.url(server)));
    } finally {
      await server.stop();
    }
  }
}
const bare = median(measured[0].map((m) => m.rps));
console.log("| server | requests/s | p99 latency | vs bare | non-2xx |");
console.log("|---|---|---|---|---|");
for (const [i, target] of targets.entries()) {
  const rps = median(measured[i].map((m) => m.rps));
  const p99 = median(measured[i].map((m) => m.p99Ms));
  const errors = measured[i].reduce((sum, m) => sum + m.errors, 0);
  console.log(`| ${target.name} | ${Math.round(rps).toLocaleString("en")} | ${p99.toFixed(2)} ms | ${((rps / bare) * 100).toFixed(0)} % | ${errors} |`);
}
const quietRatio = median(measured[1].map((m) => m.rps)) / bare;

console.log(`\nLong-polls: ${WAITERS.toLocaleString("en")} requests held on one 8 s job (GET /jobs/{id}?wait=60), answered when it ends\n`);
const server = await startServer(["--max-wait", "60"], { bin: SERVER, quiet: true, logLevel: "warn" });
let flood;
try {
  const { stdout } = await run(FLOOD, [server.url, String(server.pid), String(WAITERS), "8000"], { timeout: 120_000 });
  flood = Object.fromEntries(stdout.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)]));
} finally {
  await server.stop();
}
console.log("| waiters held | answered | completed | lateness p50 | p99 | max | server RSS idle | RSS while held |");
console.log("|---|---|---|---|---|---|---|---|");
console.log(
  `| ${flood.held_before_end.toLocaleString("en")} | ${flood.answered.toLocaleString("en")} | ${flood.completed.toLocaleString("en")} | ` +
    `${flood.p50_ms} ms | ${flood.p99_ms} ms | ${flood.max_ms} ms | ${(flood.rss_idle_kib / 1024).toFixed(1)} MiB | ${(flood.rss_held_kib / 1024).toFixed(1)} MiB |`,
);

console.log("\nTargets:");
const verdict = (met, text) => console.log(`  ${met ? "met    " : "MISSED "} ${text}`);
verdict(quietRatio >= 0.8, `GET /jobs/{id} at ${(quietRatio * 100).toFixed(0)} % of the bare handler (≥ 80 %)`);
verdict(
  flood.held_before_end === WAITERS && flood.completed === WAITERS && flood.max_ms <= 100,
  `${flood.completed.toLocaleString("en")} of ${WAITERS.toLocaleString("en")} long-polls answered completed, the last ${flood.max_ms} ms after the job's end (≤ 100 ms)`,
);
