#!/usr/bin/env node
// Pipelining without reading, loopback only, bounded in count and time (run by `make bench`
// after the release build): 50 connections each write pipelined `GET /openapi.json` requests
// as fast as the server takes them and never read an answer. The server's resident memory is
// printed before (idle), at its peak during the flood, and after the connections close.
// A server that keeps reading requests it cannot answer grows without bound here; one with
// back-pressure stops reading once its answers are not read.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { REPO, startServer } from "../tests/helpers.mjs";
import { rssMiB } from "./measure.mjs";

const SERVER = process.env.VTS_SERVER_BIN ?? path.join(REPO, "target", "release", "video-translation-server");
const CONNECTIONS = Number(process.env.BENCH_FLOOD_CONNECTIONS ?? 50);
const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 10);
const SETTLE_SECONDS = Number(process.env.BENCH_FLOOD_SETTLE_SECONDS ?? 5);
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

const server = await startServer([], { bin: SERVER, quiet: true, logLevel: "warn" });
let rows;
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
  rows = { before, peak, after, sockets, written, closed, healthy: health.ok };
} finally {
  await server.stop();
}

const mib = (value) => `${value.toFixed(1)} MiB`;
console.log(
  `Pipelining without reading: ${CONNECTIONS} connections, GET /openapi.json, ${FLOOD_SECONDS} s (2 cores shared by all)\n`,
);
console.log("| server RSS idle | peak during the flood | per connection | " + `${SETTLE_SECONDS} s after they close | server sockets then | requests written | closed by the server | /healthz after |`);
console.log("|---|---|---|---|---|---|---|---|");
console.log(
  `| ${mib(rows.before)} | ${mib(rows.peak)} | ${mib((rows.peak - rows.before) / CONNECTIONS)} | ${mib(rows.after)} | ${rows.sockets} | ` +
    `${Math.round(rows.written / REQUEST.length).toLocaleString("en")} | ${rows.closed} of ${CONNECTIONS} | ${rows.healthy ? 200 : "failed"} |`,
);
