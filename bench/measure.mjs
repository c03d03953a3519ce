// What the benchmarks share: the release builds they run, creating a job whose end is known on
// this process's clock, and what the server benchmarks read: wrk's report, a process's CPU
// time and memory from /proc, and instruction counts from valgrind's callgrind.
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { REPO, startServer } from "../tests/helpers.mjs";
import { realFetch } from "./fetch-meter.mjs";

const execFileAsync = promisify(execFile);
const RELEASE = path.join(REPO, "target", "release");

/** The release server, or another build named by `VTS_SERVER_BIN` (to compare builds). */
export const RELEASE_SERVER = process.env.VTS_SERVER_BIN ?? path.join(RELEASE, "video-translation-server");

/** The release build of the server crate's example `name` (a load generator or a baseline). */
export const releaseExample = (name) => path.join(RELEASE, "examples", name);

/**
 * Creates a job on the server at `baseUrl` that truly lasts `actualMs` but is estimated at
 * `estimateMs`, through `realFetch` (not counted by the fetch meter). Resolves `{ id, endsAt,
 * roundTripMs }`: `endsAt` is the job's end on this process's `performance.now()` clock. The
 * server started the job between sending and receiving; the midpoint is within half a round
 * trip of the truth, which bounds the error of every lateness measured.
 */
export async function createJob(baseUrl, actualMs, estimateMs) {
  const sent = performance.now();
  const response = await realFetch(`${baseUrl}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ duration_ms: actualMs, estimate_ms: estimateMs }),
  });
  const job = await response.json();
  const received = performance.now();
  return { id: job.id, endsAt: (sent + received) / 2 + actualMs, roundTripMs: received - sent };
}

/** wrk's figures: requests/s, requests in all, p99 in ms, non-2xx answers and socket errors. */
export function parseWrk(stdout) {
  const p99 = stdout.match(/\s99%\s+([\d.]+)(us|ms|s)/);
  const socket = stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    requests: Number(stdout.match(/(\d+) requests in/)?.[1]),
    p99Ms: p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN,
    non2xx: Number(stdout.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** Runs wrk with `args` (the URL last) and parses its report; gives up 60 s after `seconds`. */
export async function wrk(args, seconds) {
  const { stdout } = await execFileAsync("wrk", ["--latency", ...args], { timeout: (seconds + 60) * 1000 });
  return parseWrk(stdout);
}

/** User plus system CPU time a process has used so far, in ms (USER_HZ is 100 on Linux). */
export function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at the state, field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A process's resident memory, in MiB. */
export const rssMiB = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) / 1024;

/** The load average now, over 1 / 5 / 15 minutes. */
export const loadAverage = () => os.loadavg().map((load) => load.toFixed(1)).join(" / ");

/** The machine as a benchmark starts: its cores and load average, for the table's caption. */
export const machineNow = () =>
  `${os.cpus().length} cores, shared by everything the benchmark runs; load average now ${loadAverage()} (1 / 5 / 15 min)`;

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** valgrind's path, or `null` when it is not installed (make bench-tools installs it). */
export async function findValgrind() {
  try {
    const { stdout } = await execFileAsync("sh", ["-c", "command -v valgrind"]);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Instructions the server executes per request, counted by callgrind: the same figure for the
 * same binary and requests however busy the machine is, unlike wall-clock throughput.
 * The server runs under `valgrind` twice, answering `few` and then `many` sequential keep-alive
 * requests; the difference divided by `many - few` cancels start-up and shutdown.
 * `args` are the server's own arguments (it must listen on a port it prints); `setup(url)`
 * gives the path to request.
 */
export async function instructionsPerRequest({ valgrind, bin, args, setup, few = 1_000, many = 6_000 }) {
  const totals = [];
  for (const requests of [few, many]) {
    totals.push(await countInstructions({ valgrind, bin, args, setup, requests }));
  }
  return (totals[1] - totals[0]) / (many - few);
}

async function countInstructions({ valgrind, bin, args, setup, requests }) {
  const { instructions } = await instructionsDuring({
    valgrind,
    bin,
    args,
    load: async (server) => {
      const target = `${server.url}${await setup(server.url)}`;
      // One connection, one request at a time: the count is the server's work, not the order
      // in which concurrent requests happened to interleave.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < requests; i += 1) {
        await new Promise((resolve, reject) => {
          http
            .get(target, { agent }, (response) => {
              if (response.statusCode !== 200) reject(new Error(`${target} answered ${response.statusCode}`));
              response.resume().once("end", resolve);
            })
            .once("error", reject);
        });
      }
      agent.destroy();
    },
  });
  return instructions;
}

/**
 * The instructions callgrind counts in the server `bin` (run with `args`, listening on a port
 * it prints) from its start to its graceful stop, while `load(server)` runs against it
 * (`server` as `startServer` gives it: `url`, `pid`). Resolves `{ instructions, result }`,
 * `result` being what `load` resolved.
 */
export async function instructionsDuring({ valgrind, bin, args, load }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vts-callgrind-"));
  const out = path.join(dir, "callgrind.out");
  const server = await startServer(["--tool=callgrind", `--callgrind-out-file=${out}`, bin, ...args], {
    bin: valgrind,
    quiet: true,
    startTimeoutMs: 60_000,
  });
  let result;
  try {
    result = await load(server);
  } finally {
    // The servers stop gracefully on SIGTERM, and callgrind writes its counts at exit.
    await server.stop();
  }
  const summary = fs.readFileSync(out, "utf8").match(/^(?:summary|totals): (\d+)/m);
  fs.rmSync(dir, { recursive: true, force: true });
  if (!summary) throw new Error(`no instruction total in callgrind's output for ${bin}`);
  return { instructions: Number(summary[1]), result };
}
