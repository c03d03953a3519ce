#!/usr/bin/env node
// Watch fan-out: 100,000 jobs watched through 1,000 held `POST /jobs/watch?wait=30` requests
// of 100 ids each; one job of each watch (1,000 in all) ends at the same moment. How soon
// after its job's end each watch is answered, the server's CPU for that, and its memory fresh,
// with the jobs created, and with the watches held. Several rounds, each on a fresh server.
//
// The load generator (server/examples/watch_flood.rs) runs at nice 19, standing in for callers
// on other machines, and times each answer by the kernel's receive timestamp on its socket
// (when it arrived, which is when the server answered) as well as when it read it.
//
//   BENCH_WATCHES=100 BENCH_FANOUT_ROUNDS=1 node bench/watch-fanout.mjs     a quick look
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startServer } from "../tests/helpers.mjs";
import { machineNow, median, RELEASE_SERVER, releaseExample } from "./measure.mjs";

const run = promisify(execFile);
const SERVER = RELEASE_SERVER;
const FLOOD = releaseExample("watch_flood");
const WATCHES = Number(process.env.BENCH_WATCHES ?? 1000);
const IDS = Number(process.env.BENCH_IDS_PER_WATCH ?? 100);
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 3);
// Room for every job and every watch: the defaults are 100,000 jobs and 20,000 waiters.
const SERVER_ARGS = ["--max-jobs", String(WATCHES * IDS + 1000), "--max-waiters", String(WATCHES + 1000), "--max-wait", "30"];

console.log(
  `Watch fan-out: ${(WATCHES * IDS).toLocaleString("en")} jobs watched through ${WATCHES.toLocaleString("en")} held POST /jobs/watch?wait=30 ` +
    `of ${IDS} ids each; one job per watch (${WATCHES.toLocaleString("en")} in all) ends at the same moment. ${ROUNDS} rounds, each on a fresh server ` +
    `(${SERVER_ARGS.join(" ")}). Lateness after each watch's job ended: arrived = kernel receive timestamp, read = when the niced load ` +
    `generator read it. ${machineNow()}.\n`,
);
const rounds = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const server = await startServer(SERVER_ARGS, { bin: SERVER, quiet: true, logLevel: "warn" });
  try {
    const { stdout } = await run("nice", ["-n", "19", FLOOD, server.url, String(server.pid), String(WATCHES), String(IDS)], {
      timeout: 300_000,
    });
    rounds.push(Object.fromEntries(stdout.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)])));
  } finally {
    await server.stop();
  }
}

const ms = (value) => `${Math.round(value)} ms`;
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
console.log(
  "| round | watches held | answered with their job's end | arrived p50 / p99 / max | read max | server CPU for the fan-out | " +
    "RSS fresh / 100,000 jobs / watches held | jobs created in |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const [i, r] of rounds.entries()) {
  console.log(
    `| ${i + 1} | ${r.held_before_end.toLocaleString("en")} | ${r.with_its_end.toLocaleString("en")} of ${r.watches.toLocaleString("en")} | ` +
      `${ms(r.arrived_p50_ms)} / ${ms(r.arrived_p99_ms)} / ${ms(r.arrived_max_ms)} | ${ms(r.read_max_ms)} | ${r.server_cpu_ms} ms | ` +
      `${mib(r.rss_fresh_kib)} / ${mib(r.rss_jobs_kib)} / ${mib(r.rss_held_kib)} | ${r.create_s} s |`,
  );
}
const all = rounds.every((r) => r.held_before_end === WATCHES && r.with_its_end === WATCHES);
const middle = [...rounds].sort((a, b) => a.arrived_max_ms - b.arrived_max_ms)[Math.floor(rounds.length / 2)];
console.log("\nFacts (no target set):");
console.log(
  `  ${all ? "every" : "NOT every"} watch held before the end and answered with its job completed, in every round; ` +
    `median round: last answer arrived ${ms(middle.arrived_max_ms)} after its job's end, median of rounds' p99 ${ms(median(rounds.map((r) => r.arrived_p99_ms)))}; ` +
    `watches held cost ${mib(middle.rss_held_kib - middle.rss_jobs_kib)} over the jobs' ${mib(middle.rss_jobs_kib - middle.rss_fresh_kib)}`,
);
