#!/usr/bin/env node
// The fleet (--store redis://...), loopback only, bounded in count and time: a redis-server of
// its own on a free port (no persistence), two replicas on it, and a memory server beside.
//  1. Redis round trips per poll, read from each replica's vts_store_round_trips_total: the
//     first poll of a job created on the other replica, later polls of it, and polls on the
//     replica that created it. The cache's promise is 1, then 0.
//  2. GET /jobs/{id} throughput of a job already seen, memory store vs Redis store, with wrk
//     in alternating bursts (2 cores shared by wrk, the server and Redis).
//  3. Held long-polls on one replica answered after a cancel through the other: how long from
//     the cancel's request to each answer, beside the same on one memory server (the time to
//     write that many answers, which the fleet adds to); then the same with event streams
//     (`POST /jobs/watch`, `Accept: text/event-stream`), timed to each stream's `end` event.
//  4. Two fresh replicas holding 20,000 long-polls between them (10,000 each, by
//     long_poll_flood, on a job of each replica's own), answered at their job's time-driven
//     end: lateness of each answer after the end. No target: "all within 100 ms" could not
//     be met on 2 shared cores, and the stream fan-out's figures (bench/stream-fanout.mjs)
//     replaced it.
// BENCH_FLEET_PARTS picks the parts to run (default "1,2,3,4"; "4" alone takes about a minute);
// VTS_SERVER_BIN another server binary (to compare builds).
import { spawn } from "node:child_process";
import net from "node:net";
import { run, startServer } from "../tests/helpers.mjs";
import { median, RELEASE_SERVER, releaseExample, wrk } from "./measure.mjs";

const SERVER = RELEASE_SERVER;
const JOBS = Number(process.env.BENCH_FLEET_JOBS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 2);
const HELD = Number(process.env.BENCH_FLEET_HELD ?? 500);
const FLOOD = releaseExample("long_poll_flood");
const FLOOD_WAITERS = Number(process.env.BENCH_FLEET_FLOOD_WAITERS ?? 10_000);
const PARTS = new Set((process.env.BENCH_FLEET_PARTS ?? "1,2,3,4").split(",").map(Number));

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });

async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  process.once("exit", () => child.kill("SIGKILL"));
  for (let i = 0; i < 100; i += 1) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("redis-server did not come up");
}

async function untilReady(url) {
  for (let i = 0; i < 200; i += 1) {
    if ((await fetch(`${url}/readyz`)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never became ready`);
}

async function createJob(url) {
  const response = await fetch(`${url}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ duration_ms: 3_600_000 }),
  });
  return (await response.json()).id;
}

async function roundTrips(url, operation) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(text.match(new RegExp(`vts_store_round_trips_total\\{operation="${operation}"\\} (\\d+)`))?.[1] ?? 0);
}

async function pollAll(url, ids) {
  for (const id of ids) {
    const response = await fetch(`${url}/jobs/${id}`);
    if (!response.ok) throw new Error(`GET /jobs/${id}: ${response.status}`);
    await response.arrayBuffer();
  }
}

const redis = await startRedis();
const servers = [];
try {
  const a = await startServer(["--store", redis.url], { bin: SERVER, quiet: true });
  const b = await startServer(["--store", redis.url], { bin: SERVER, quiet: true });
  const memory = await startServer([], { bin: SERVER, quiet: true });
  servers.push(a, b, memory);
  await Promise.all([untilReady(a.url), untilReady(b.url)]);

  const ids = [];
  if (PARTS.has(1) || PARTS.has(2)) for (let i = 0; i < JOBS; i += 1) ids.push(await createJob(a.url));
  if (PARTS.has(1)) {
    const perPoll = async (server) => {
      const before = await roundTrips(server.url, "get");
      await pollAll(server.url, ids);
      return ((await roundTrips(server.url, "get")) - before) / ids.length;
    };
    const firstOnB = await perPoll(b);
    const laterOnB = await perPoll(b);
    const onA = await perPoll(a);
    console.log(`Redis round trips per poll (${JOBS} jobs created on replica A)\n`);
    console.log("| poll | round trips per poll |\n|---|---|");
    console.log(`| first poll of each job on replica B | ${firstOnB.toFixed(2)} |`);
    console.log(`| second poll of each job on replica B | ${laterOnB.toFixed(2)} |`);
    console.log(`| polls on replica A, which created them | ${onA.toFixed(2)} |\n`);
  }

  if (PARTS.has(2)) {
    const targets = [
      { name: "--store memory", url: `${memory.url}/jobs/${await createJob(memory.url)}` },
      { name: "--store redis, job seen", url: `${b.url}/jobs/${ids[0]}` },
    ];
    const rps = targets.map(() => []);
    for (const target of targets) await wrk(["-t2", "-c64", "-d1s", target.url], 1); // warm-up
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [i, target] of targets.entries()) {
        const result = await wrk(["-t2", "-c64", `-d${SECONDS}s`, target.url], SECONDS);
        if (result.non2xx || result.socketErrors) throw new Error(`${target.name}: errors ${JSON.stringify(result)}`);
        rps[i].push(result.rps);
      }
    }
    console.log(`GET /jobs/{id} throughput, wrk -t2 -c64, ${ROUNDS} alternating ${SECONDS} s bursts (medians)\n`);
    console.log("| store | requests/s |\n|---|---|");
    for (const [i, target] of targets.entries()) console.log(`| ${target.name} | ${Math.round(median(rps[i]))} |`);
    console.log();
  }

  if (PARTS.has(3)) {
    // Held long-polls woken by a cancel: across the fleet, and on one memory server for a
    // baseline (the same answers to write, no Redis in between).
    const holdLongPoll = (url, id) =>
      fetch(`${url}/jobs/${id}?wait=30`).then(async (response) => {
        await response.arrayBuffer();
        return performance.now();
      });
    // A stream's answer is its `end` event: read until one starts a line, then hang up (leaving
    // the loop cancels the body).
    const holdStream = async (url, id) => {
      const response = await fetch(`${url}/jobs/watch`, {
        method: "POST",
        headers: { accept: "text/event-stream", "content-type": "application/json" },
        body: JSON.stringify({ ids: [id] }),
      });
      if (!response.ok) throw new Error(`stream: ${response.status}`);
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of response.body) {
        text += decoder.decode(chunk, { stream: true });
        if (/(^|\n)event: ?end\r?\n/.test(text)) return performance.now();
      }
      throw new Error(`the stream closed without an end event: ${JSON.stringify(text.slice(-200))}`);
    };
    const wakeUps = async (hold, holder, canceller) => {
      const id = await createJob(canceller.url);
      await pollAll(holder.url, [id]);
      const answeredAt = [];
      const held = Array.from({ length: HELD }, () => hold(holder.url, id).then((at) => answeredAt.push(at)));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sent = performance.now();
      const cancel = await fetch(`${canceller.url}/jobs/${id}/cancel`, { method: "POST" });
      if (!cancel.ok) throw new Error(`cancel: ${cancel.status}`);
      await Promise.all(held);
      return answeredAt.map((at) => at - sent).sort((x, y) => x - y);
    };
    console.log(
      `${HELD} long-polls (then ${HELD} event streams) held on one job, then one cancel: ms from the cancel's request ` +
        "to each answer (each stream's end event)\n",
    );
    console.log("| held | on | cancelled through | first | p50 | p99 | last |\n|---|---|---|---|---|---|---|");
    for (const [kind, hold] of [
      ["long-polls", holdLongPoll],
      ["streams", holdStream],
    ]) {
      for (const [name, holder, canceller, through] of [
        ["replica B", b, a, "replica A"],
        ["memory server", memory, memory, "the same server"],
      ]) {
        const after = await wakeUps(hold, holder, canceller);
        const p99 = after[Math.min(after.length - 1, Math.floor(after.length * 0.99))];
        console.log(
          `| ${HELD} ${kind} | ${name} | ${through} | ${after[0].toFixed(1)} | ${median(after).toFixed(1)} | ${p99.toFixed(1)} | ${after.at(-1).toFixed(1)} |`,
        );
      }
    }
    console.log();
  }

  if (PARTS.has(4)) {
    // 20,000 long-polls on two replicas, answered when their jobs end by time: each replica's
    // own timer wakes its waiters, Redis only gave each replica its job once. Twice: both jobs
    // ending at the same instant, and 1 s apart. Replicas of a fleet run on machines of their
    // own; here both share 2 cores, so at the same instant they write 20,000 answers on the CPU
    // one server would have for 10,000. Held at once in both cases (`held before the end`).
    const floodReplicas = await Promise.all(
      [0, 1].map(() => startServer(["--store", redis.url, "--max-wait", "60"], { bin: SERVER, quiet: true })),
    );
    servers.push(...floodReplicas);
    await Promise.all(floodReplicas.map((replica) => untilReady(replica.url)));
    const flood = async (replica, delayMs) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const args = [FLOOD, replica.url, String(replica.pid), String(FLOOD_WAITERS), "8000"];
      const { stdout } = await run("nice", ["-n", "19", ...args], { timeout: 120_000 });
      return Object.fromEntries(stdout.trim().split(/\s+/).map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)]));
    };
    console.log(
      `${(2 * FLOOD_WAITERS).toLocaleString("en")} long-polls held on two replicas (${FLOOD_WAITERS.toLocaleString("en")} each, ` +
        "one job each, ending 8 s after its creation): ms after the job's end, arrived = kernel receive timestamp\n",
    );
    console.log("| jobs end | replica | held before the end | completed | arrived p50 | p99 | max |\n|---|---|---|---|---|---|---|");
    const facts = [];
    for (const [ends, apartMs] of [["at the same instant", 0], ["1 s apart", 1_000]]) {
      const floods = await Promise.all(floodReplicas.map((replica, i) => flood(replica, i * apartMs)));
      for (const [i, result] of floods.entries()) {
        console.log(
          `| ${ends} | ${"AB"[i]} | ${result.held_before_end.toLocaleString("en")} | ${result.completed.toLocaleString("en")} | ` +
            `${result.arrived_p50_ms.toFixed(1)} | ${result.arrived_p99_ms.toFixed(1)} | ${result.arrived_max_ms.toFixed(1)} |`,
        );
      }
      const held = floods.reduce((sum, result) => sum + result.held_before_end, 0);
      const completed = floods.reduce((sum, result) => sum + result.completed, 0);
      const latest = Math.max(...floods.map((result) => result.arrived_max_ms));
      facts.push(
        `jobs ending ${ends}: ${held.toLocaleString("en")} of ${(2 * FLOOD_WAITERS).toLocaleString("en")} held before the end, ` +
          `${completed.toLocaleString("en")} answered completed, the last ${latest.toFixed(1)} ms after its job's end`,
      );
    }
    console.log(`\nFacts (no target; 2 cores shared by both replicas, Redis and both floods):\n${facts.map((f) => `  ${f}`).join("\n")}`);
  }

} finally {
  await Promise.all(servers.map((server) => server.stop()));
  redis.stop();
}
