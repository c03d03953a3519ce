#!/usr/bin/env node
// Pipelining without reading, loopback only, bounded in count and time (run by `make bench`
// after the release build): 50 connections each write pipelined `GET /openapi.json` requests
// as fast as the server takes them and never read an answer. The server's resident memory is
// printed before (idle), at its peak during the flood, and after the connections close, for
// each of BENCH_FLOOD_RUNS runs (a fresh server each), with each run's verdicts.
// A server that keeps reading requests it cannot answer grows without bound here; one with
// back-pressure stops reading once its answers are not read. One that keeps what the flood
// took once the connections have closed stays at its high-water mark; this one's workers
// collect their heaps once their last connection has closed (server/src/idle_heap.rs).
import fs from "node:fs";
import net from "node:net";
import { startServer } from "../tests/helpers.mjs";
import { RELEASE_SERVER, rssMiB } from "./measure.mjs";

const SERVER = RELEASE_SERVER;
const CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 50);
const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 10);
const SETTLE_SECONDS = Number(process.env.BENCH_FLOOD_SETTLE_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_FLOOD_RUNS ?? 3);
// The targets: at most 1 MiB of server memory per connection, and RSS back near idle once
// they close, read as: at most 3 MiB above idle. What may stay is what the workers' request
// pools hold (heads of ~7 KiB, at most 256 per worker, ~2 MiB here), bounded whatever the
// number of connections, plus a margin for the noise of a shared machine; see bench/README.md.
// server/tests/pipelining.rs checks the same with 100 connections on a debug build (5 MiB).
const MAX_MIB_PER_CONNECTION = 1;
const MAX_KEPT_MIB = 3;
// Per connection, whichever comes first: the flood's time or this many bytes written.
const MAX_BYTES_PER_CONNECTION = 256 * 1024 * 1024;

/** How many sockets a process holds open (its listener included). */
const openSockets = (pid) =>
  fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:");
    } catch {
      return false; // closed while listing
    }
  }).length;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const REQUEST = Buffer.from("GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
// Many requests per write, so the client is never the bottleneck.
const BATCH = Buffer.concat(Array.from({ length: 256 }, () => REQUEST));

/** Opens one connection that writes pipelined requests until `deadline`, reading nothing. */
function flood(url, deadline) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.pause(); // never read: answers pile up in the kernel, then in the server
    let written = 0;
    let closedByServer = false;
    const finish = () => resolve({ socket, written, closedByServer });
    const pump = () => {
      while (Date.now() < deadline && written < MAX_BYTES_PER_CONNECTION) {
        written += BATCH.length;
        if (!socket.write(BATCH)) return; // resumes on "drain", once the server reads again
      }
      finish();
    };
    socket.on("connect", pump);
    socket.on("drain", pump);
    socket.on("error", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      closedByServer = true;
      finish();
    });
    // A connection the server stopped reading never drains: end its flood on time anyway.
    setTimeout(finish, deadline - Date.now());
  });
}

/** One run against a fresh server: its RSS idle, at the flood's peak and after the close. */
async function run() {
  const server = await startServer([], { bin: SERVER, quiet: true, logLevel: "warn" });
  try {
    // Warm up the workers' allocators with ordinary traffic, so "before" is a served idle.
    for (let i = 0; i < 200; i += 1) await (await fetch(`${server.url}/openapi.json`)).arrayBuffer();
    await sleep(500);
    const before = rssMiB(server.pid);

    const deadline = Date.now() + FLOOD_SECONDS * 1000;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 100);
    const floods = await Promise.all(Array.from({ length: CONNECTIONS }, () => flood(server.url, deadline)));
    peak = Math.max(peak, rssMiB(server.pid));
    const written = floods.reduce((sum, f) => sum + f.written, 0);
    const closed = floods.filter((f) => f.closedByServer).length;

    for (const { socket } of floods) socket.destroy();
    await sleep(SETTLE_SECONDS * 1000);
    clearInterval(sampler);
    const after = rssMiB(server.pid);
    const sockets = openSockets(server.pid);

    // The server still answers a fresh client.
    const health = await fetch(`${server.url}/healthz`);
    return { before, peak, after, sockets, written, closed, healthy: health.ok };
  } finally {
    await server.stop();
  }
}

const rows = [];
for (let i = 0; i < RUNS; i += 1) rows.push(await run());

const mib = (value) => `${value.toFixed(1)} MiB`;
console.log(
  `Pipelining without reading: ${CONNECTIONS} connections, GET /openapi.json, ${FLOOD_SECONDS} s, ${RUNS} runs, a fresh server each ` +
    "(2 cores shared by all)\n",
);
console.log(
  "| run | server RSS idle | peak during the flood | per connection | " +
    `${SETTLE_SECONDS} s after they close | kept (after − idle) | server sockets then | requests written | closed by the server | /healthz after |`,
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
rows.forEach((row, i) =>
  console.log(
    `| ${i + 1} | ${mib(row.before)} | ${mib(row.peak)} | ${mib((row.peak - row.before) / CONNECTIONS)} | ${mib(row.after)} | ` +
      `${mib(row.after - row.before)} | ${row.sockets} | ${Math.round(row.written / REQUEST.length).toLocaleString("en")} | ` +
      `${row.closed} of ${CONNECTIONS} | ${row.healthy ? 200 : "failed"} |`,
  ),
);
console.log("");
const verdict = (met, text) => console.log(`  ${met ? "met    " : "MISSED "} ${text}`);
rows.forEach((row, i) => {
  const perConnection = (row.peak - row.before) / CONNECTIONS;
  verdict(perConnection <= MAX_MIB_PER_CONNECTION, `run ${i + 1}: ${mib(perConnection)} per connection (≤ ${MAX_MIB_PER_CONNECTION} MiB)`);
  const kept = row.after - row.before;
  verdict(
    kept <= MAX_KEPT_MIB,
    `run ${i + 1}: ${mib(row.after)} after the close, ${mib(kept)} above idle (≤ ${MAX_KEPT_MIB} MiB): ` +
      `${((kept / (row.peak - row.before)) * 100).toFixed(0)} % of what the flood took, ${((kept / row.before) * 100).toFixed(0)} % of idle`,
  );
  verdict(row.healthy, `run ${i + 1}: /healthz answered after the flood`);
});
