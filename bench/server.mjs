#!/usr/bin/env node
// Server benchmarks, loopback only, bounded in count and time:
//  1. GET /jobs/{id} throughput with wrk against a bare actix-web handler, in the same run,
//     with request logs off (RUST_LOG=warn) and on (info, written to /dev/null). The servers
//     run side by side and short wrk bursts alternate between them, so each round's ratio
//     pairs measurements seconds apart and a shared machine's drift cancels out. Each burst
//     also reads the server's CPU time per request, and callgrind counts the instructions
//     per request: a figure no neighbour on the machine can move.
//  2. 10,000 long-polls held on one job: how soon after the job's end each is answered, and
//     the server's memory while they are held. The load generator runs at the lowest CPU
//     priority (nice 19), standing in for 10,000 callers on other machines, and each answer is
//     timed by the kernel's receive timestamp on the caller's socket: when it arrived, not
//     when the load generator got around to reading it. Both times are printed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startServer } from "../tests/helpers.mjs";
import { cpuMs, findValgrind, instructionsPerRequest, median, RELEASE_SERVER, releaseExample, wrk } from "./measure.mjs";

const run = promisify(execFile);
const SERVER = RELEASE_SERVER;
const BARE = releaseExample("bare_actix");
const FLOOD = releaseExample("long_poll_flood");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 2);
const WAITERS = Number(process.env.BENCH_WAITERS ?? 10_000);
const FLOOD_ROUNDS = Number(process.env.BENCH_FLOOD_ROUNDS ?? 5);

async function createJob(url) {
  const response = await fetch(`${url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ duration_ms: 3_600_000 }) });
  return response.headers.get("location");
}
const BARE_PATH = "/jobs/0123456789abcdef0123456789abcdef";

console.log(
  `GET /jobs/{id} throughput: wrk -t2 -c64, ${ROUNDS} rounds of ${SECONDS} s bursts alternating between the servers, which run side by side ` +
    `(2 cores shared by wrk and the server under test). Medians shown; "vs bare" is the median of each round's ratio, with its range\n`,
);
const targets = [
  { name: "bare actix-web handler (constant JSON)", start: () => startServer([], { bin: BARE, quiet: true }), path: async () => BARE_PATH },
  { name: "video-translation-server, RUST_LOG=warn", start: () => startServer([], { bin: SERVER, quiet: true, logLevel: "warn" }), path: (s) => createJob(s.url) },
  { name: "video-translation-server, RUST_LOG=info", start: () => startServer([], { bin: SERVER, quiet: true, logLevel: "info" }), path: (s) => createJob(s.url) },
];
const servers = [];
const measured = targets.map(() => []);
try {
  for (const target of targets) {
    const server = await target.start();
    servers.push(server);
    server.target = `${server.url}${await target.path(server)}`;
    await wrk(["-t2", "-c64", "-d1s", server.target], 1); // warm-up, not counted
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, server] of servers.entries()) {
      const cpuBefore = cpuMs(server.pid);
      const result = await wrk(["-t2", "-c64", `-d${SECONDS}s`, server.target], SECONDS);
      result.cpuMicrosPerRequest = ((cpuMs(server.pid) - cpuBefore) * 1000) / result.requests;
      measured[i].push(result);
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
const ratios = (i) => measured[i].map((m, round) => m.rps / measured[0][round].rps);
const percent = (ratio) => `${(ratio * 100).toFixed(0)} %`;
console.log("| server | requests/s | p99 latency | vs bare | range over rounds | server CPU per request | non-2xx |");
console.log("|---|---|---|---|---|---|---|");
for (const [i, target] of targets.entries()) {
  const rps = median(measured[i].map((m) => m.rps));
  const p99 = median(measured[i].map((m) => m.p99Ms));
  const cpu = median(measured[i].map((m) => m.cpuMicrosPerRequest));
  const errors = measured[i].reduce((sum, m) => sum + m.non2xx + m.socketErrors, 0);
  const range = `${percent(Math.min(...ratios(i)))} – ${percent(Math.max(...ratios(i)))}`;
  console.log(
    `| ${target.name} | ${Math.round(rps).toLocaleString("en")} | ${p99.toFixed(2)} ms | ${percent(median(ratios(i)))} | ${range} | ` +
      `${cpu.toFixed(1)} µs | ${errors} |`,
  );
}
const quietRatio = median(ratios(1));

const valgrind = await findValgrind();
if (valgrind) {
  console.log("\nInstructions per GET /jobs/{id} (callgrind; one connection, sequential requests; deterministic)\n");
  const bare = await instructionsPerRequest({ valgrind, bin: BARE, args: ["127.0.0.1:0"], setup: async () => BARE_PATH });
  const ours = await instructionsPerRequest({
    valgrind,
    bin: SERVER,
    args: ["--bind", "127.0.0.1:0", "--workers", "1"],
    setup: createJob,
  });
  console.log("| server | instructions per request | vs bare |");
  console.log("|---|---|---|");
  console.log(`| bare actix-web handler | ${Math.round(bare).toLocaleString("en")} | 100 % |`);
  console.log(`| video-translation-server, RUST_LOG=warn | ${Math.round(ours).toLocaleString("en")} | ${percent(ours / bare)} |`);
} else {
  console.log("\n(valgrind not installed: instruction counts skipped)");
}

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
