#!/usr/bin/env node
// Stream fan-out: 10,000 event streams (POST /jobs/watch, Accept: text/event-stream) open on
// one server, on one job, which ends for all of them at once. How soon after the job's end each
// stream's `end` event arrives, and the server's CPU for that; then the server's instructions
// per delivered event (callgrind: the same count however busy the machine), beside a bare
// actix-web handler answering one held request: a ratio, not a time.
//
// The load generator (server/examples/stream_flood.rs) runs at nice 19, standing in for
// callers on other machines, and times each event by the kernel's receive timestamp on its
// socket (when it arrived, which is when the server wrote it) as well as when it read it.
//
//   BENCH_STREAMS=1000 BENCH_STREAM_ROUNDS=1 node bench/stream-fanout.mjs     a quick look
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startServer } from "../tests/helpers.mjs";
import { findValgrind, instructionsDuring, machineNow, median, RELEASE_SERVER, releaseExample } from "./measure.mjs";

const run = promisify(execFile);
const SERVER = RELEASE_SERVER;
const FLOOD = releaseExample("stream_flood");
const LONG_POLL_FLOOD = releaseExample("long_poll_flood");
const BARE = releaseExample("bare_held");
const STREAMS = Number(process.env.BENCH_STREAMS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 3);
const LEAD_MS = Number(process.env.BENCH_STREAM_LEAD_MS ?? 8_000);
// Under callgrind: the difference between these two runs, per stream, cancels start-up,
// shutdown and the job's creation.
const FEW = Number(process.env.BENCH_STREAM_FEW ?? 200);
const MANY = Number(process.env.BENCH_STREAM_MANY ?? 1_200);
const SERVER_ARGS = ["--max-waiters", String(STREAMS + 1000)];

/** Runs the flood against `url` (server `pid`) and returns its key=value line as an object. */
async function flood(url, pid, args, bin = FLOOD) {
  const { stdout } = await run("nice", ["-n", "19", bin, url, String(pid), ...args.map(String)], { timeout: 600_000 });
  return Object.fromEntries(stdout.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)]));
}

/** One round of `floodArgs` on a fresh server. */
async function round(floodArgs, bin) {
  const server = await startServer([...SERVER_ARGS, "--max-wait", "60"], { bin: SERVER, quiet: true, logLevel: "warn" });
  try {
    return await flood(server.url, server.pid, floodArgs, bin);
  } finally {
    await server.stop();
  }
}

console.log(
  `Stream fan-out: ${STREAMS.toLocaleString("en")} event streams open on one job, which ends ${LEAD_MS / 1000} s after its creation; ` +
    `${ROUNDS} rounds, each on a fresh server (${SERVER_ARGS.join(" ")}), each beside a round of as many long-polls held on one job ` +
    `(GET /jobs/{id}?wait=60, server/examples/long_poll_flood.rs) for scale. Lateness of each stream's end event (or long-poll's ` +
    `answer) after the job's end: arrived = kernel receive timestamp, read = when the niced load generator read it. ${machineNow()}: ` +
    `the times are this machine's, the instruction counts below are not.\n`,
);
const rounds = [];
const longPolls = [];
for (let i = 0; i < ROUNDS; i += 1) {
  rounds.push(await round([STREAMS, LEAD_MS, "stream"]));
  longPolls.push(await round([STREAMS, LEAD_MS], LONG_POLL_FLOOD));
}
const ms = (value) => `${value.toFixed(1)} ms`;
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
console.log("| round | streams open before the end | end events with the job completed | arrived p50 / p99 / max | read max | server CPU for the fan-out | per event | RSS fresh / streams open |");
console.log("|---|---|---|---|---|---|---|---|");
for (const [i, r] of rounds.entries()) {
  console.log(
    `| ${i + 1} | ${r.held_before_end.toLocaleString("en")} | ${r.with_its_end.toLocaleString("en")} of ${r.streams.toLocaleString("en")} | ` +
      `${ms(r.arrived_p50_ms)} / ${ms(r.arrived_p99_ms)} / ${ms(r.arrived_max_ms)} | ${ms(r.read_max_ms)} | ${r.server_cpu_ms} ms | ` +
      `${((r.server_cpu_ms * 1000) / Math.max(1, r.delivered)).toFixed(1)} µs | ${mib(r.rss_fresh_kib)} / ${mib(r.rss_held_kib)} |`,
  );
}
console.log(`\nBeside them, ${STREAMS.toLocaleString("en")} long-polls on one job, a round after each round of streams:\n`);
console.log("| round | long-polls answered completed | arrived p50 / p99 / max | read max | server CPU for the fan-out | per answer |");
console.log("|---|---|---|---|---|---|");
for (const [i, r] of longPolls.entries()) {
  console.log(
    `| ${i + 1} | ${r.completed.toLocaleString("en")} of ${r.waiters.toLocaleString("en")} | ` +
      `${ms(r.arrived_p50_ms)} / ${ms(r.arrived_p99_ms)} / ${ms(r.arrived_max_ms)} | ${ms(r.read_max_ms)} | ${r.server_cpu_ms} ms | ` +
      `${((r.server_cpu_ms * 1000) / Math.max(1, r.answered)).toFixed(1)} µs |`,
  );
}
const all = rounds.every((r) => r.held_before_end === STREAMS && r.with_its_end === STREAMS);
const middle = [...rounds].sort((a, b) => a.arrived_max_ms - b.arrived_max_ms)[Math.floor(rounds.length / 2)];

/** Instructions per delivered event: the difference of a run of MANY and one of FEW, per stream. */
async function perEvent(valgrind, bin, args, load) {
  const few = await instructionsDuring({ valgrind, bin, args, load: load(FEW) });
  const many = await instructionsDuring({ valgrind, bin, args, load: load(MANY) });
  return { perEvent: (many.instructions - few.instructions) / (MANY - FEW), few: few.result, many: many.result };
}

const valgrind = await findValgrind();
let ratio = null;
if (valgrind) {
  // Long enough for every stream to open under valgrind (tens of times slower) before the end.
  const leadUnderValgrind = (streams) => 10_000 + 10 * streams;
  const ours = await perEvent(
    valgrind,
    SERVER,
    ["--bind", "127.0.0.1:0", "--workers", "1", "--max-waiters", String(MANY + 100)],
    (streams) => (server) => flood(server.url, server.pid, [streams, leadUnderValgrind(streams), "stream"]),
  );
  const bare = await perEvent(valgrind, BARE, ["127.0.0.1:0"], (requests) => (server) => flood(server.url, server.pid, [requests, 0, "held"]));
  ratio = ours.perEvent / bare.perEvent;
  console.log(
    `\nInstructions per delivered event (callgrind, one worker; the difference between ${MANY.toLocaleString("en")} and ${FEW} ` +
      "streams or held requests, per stream: its connection, request, hold, answer and close. Not moved by the machine's load; " +
      "the order in which concurrent connections interleave moves it by a few percent between runs)\n",
  );
  console.log("| server | instructions per delivered event | vs bare | delivered (few / many) |");
  console.log("|---|---|---|---|");
  console.log(
    `| bare actix-web handler answering one held request | ${Math.round(bare.perEvent).toLocaleString("en")} | 100 % | ` +
      `${bare.few.answered} / ${bare.many.answered} |`,
  );
  console.log(
    `| video-translation-server: one stream's end event | ${Math.round(ours.perEvent).toLocaleString("en")} | ${(ratio * 100).toFixed(0)} % | ` +
      `${ours.few.with_its_end} / ${ours.many.with_its_end} |`,
  );
} else {
  console.log("\n(valgrind not installed: instruction counts skipped)");
}

console.log("\nFacts (no target set):");
console.log(
  `  ${all ? "every" : "NOT every"} stream open before the end and sent its job's end, completed, in every round; ` +
    `median round: last end event arrived ${ms(middle.arrived_max_ms)} after the job's end, median of rounds' p99 ` +
    `${ms(median(rounds.map((r) => r.arrived_p99_ms)))} (long-polls beside them: last answer after ${ms(median(longPolls.map((r) => r.arrived_max_ms)))}, ` +
    `median of rounds); ${STREAMS.toLocaleString("en")} open streams cost ${mib(middle.rss_held_kib - middle.rss_fresh_kib)}` +
    (ratio === null ? "" : `; ${ratio.toFixed(2)}× the bare handler's instructions per delivered event`),
);
