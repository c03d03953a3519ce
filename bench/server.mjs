#!/usr/bin/env node
// Server benchmarks, loopback only, bounded in count and time:
//  1. GET /jobs/{id} throughput with wrk against a bare actix-web handler, in the same run,
//     with request logs off (RUST_LOG=warn) and on (info, written to /dev/null);
//  2. 10,000 long-polls held on one job: how soon after the job's end each is answered, and
//     the server's memory while they are held. The load generator runs at the lowest CPU
//     priority (nice 19), standing in for 10,000 callers on other machines, and each answer is
//     timed by the kernel's receive timestamp on the caller's socket: when it arrived, not
//     when the load generator got around to reading it. Both times are printed.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { REPO, startServer } from "../tests/helpers.mjs";

const run = promisify(execFile);
const RELEASE = path.join(REPO, "target", "release");
const SERVER = path.join(RELEASE, "video-translation-server");
const BARE = path.join(RELEASE, "examples", "bare_actix");
const FLOOD = path.join(RELEASE, "examples", "long_poll_flood");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 4);
const WAITERS = Number(process.env.BENCH_WAITERS ?? 10_000);
const FLOOD_ROUNDS = Number(process.env.BENCH_FLOOD_ROUNDS ?? 5);

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

console.log(
  `GET /jobs/{id} throughput: wrk -t2 -c64, ${SECONDS} s per run, ${ROUNDS} interleaved rounds (2 cores shared by wrk and the server); ` +
    `medians shown, and "vs bare" is the median of each round's ratio, with its range\n`,
);
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
// Each round's ratio pairs runs made seconds apart, so slow drift of the machine cancels out.
const ratios = (i) => measured[i].map((m, round) => m.rps / measured[0][round].rps);
const percent = (ratio) => `${(ratio * 100).toFixed(0)} %`;
console.log("| server | requests/s | p99 latency | vs bare | range over rounds | non-2xx |");
console.log("|---|---|---|---|---|---|");
for (const [i, target] of targets.entries()) {
  const rps = median(measured[i].map((m) => m.rps));
  const p99 = median(measured[i].map((m) => m.p99Ms));
  const errors = measured[i].reduce((sum, m) => sum + m.errors, 0);
  const range = `${percent(Math.min(...ratios(i)))} – ${percent(Math.max(...ratios(i)))}`;
  console.log(`| ${target.name} | ${Math.round(rps).toLocaleString("en")} | ${p99.toFixed(2)} ms | ${percent(median(ratios(i)))} | ${range} | ${errors} |`);
}
const quietRatio = median(ratios(1));

console.log(
  `\nLong-polls: ${WAITERS.toLocaleString("en")} requests held on one 8 s job (GET /jobs/{id}?wait=60), answered when it ends; ` +
    `${FLOOD_ROUNDS} rounds, each on a fresh server. Lateness after the job's end: arrived = kernel receive timestamp, read = when the niced load generator read it\n`,
);
const floods = [];
for (let round = 0; round < FLOOD_ROUNDS; round += 1) {
  const server = await startServer(["--max-wait", "60"], { bin: SERVER, quiet: true, logLevel: "warn" });
  try {
    const { stdout } = await run("nice", ["-n", "19", FLOOD, server.url, String(server.pid), String(WAITERS), "8000"], { timeout: 120_000 });
    floods.push(Object.fromEntries(stdout.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)])));
  } finally {
    await server.stop();
  }
}
console.log("| round | held | completed | arrived p50 | p99 | max | read p50 | read max | server CPU | RSS idle | RSS held |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
const ms = (value) => `${value.toFixed(1)} ms`;
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
for (const [i, f] of floods.entries()) {
  console.log(
    `| ${i + 1} | ${f.held_before_end.toLocaleString("en")} | ${f.completed.toLocaleString("en")} | ` +
      `${ms(f.arrived_p50_ms)} | ${ms(f.arrived_p99_ms)} | ${ms(f.arrived_max_ms)} | ${ms(f.read_p50_ms)} | ${ms(f.read_max_ms)} | ` +
      `${f.server_cpu_ms} ms | ${mib(f.rss_idle_kib)} | ${mib(f.rss_held_kib)} |`,
  );
}
// The round with the median last arrival speaks for the server; all rounds are shown above.
const flood = [...floods].sort((a, b) => a.arrived_max_ms - b.arrived_max_ms)[Math.floor(floods.length / 2)];

console.log("\nTargets:");
const verdict = (met, text) => console.log(`  ${met ? "met    " : "MISSED "} ${text}`);
verdict(quietRatio >= 0.8, `GET /jobs/{id} at ${(quietRatio * 100).toFixed(0)} % of the bare handler (≥ 80 %)`);
verdict(
  floods.every((f) => f.held_before_end === WAITERS && f.completed === WAITERS) && flood.arrived_max_ms <= 100,
  `${WAITERS.toLocaleString("en")} long-polls held and answered completed in every round; in the median round the last arrived ` +
    `${flood.arrived_max_ms.toFixed(1)} ms after the job's end (≤ 100 ms), with the server at ${mib(flood.rss_held_kib)}`,
);
