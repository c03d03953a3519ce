// One process of bench/watch-cpu.mjs: loads the package in PKG_DIR (argv[2]) and watches
// JOBS jobs through one client whose `fetch` option plays a server that answers every held
// watch at once with the next job ended (the ids listed in the order they end). Prints one
// JSON line: watch answers, and the process's CPU time (user + system) over the run.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, jobsArg] = process.argv.slice(2);
const JOBS = Number(jobsArg);
const client = await import(pathToFileURL(path.resolve(pkgDir, "video_translation_client.js")).href);
client.initSync({ module: fs.readFileSync(path.join(pkgDir, "video_translation_client_bg.wasm")) });

const ids = Array.from({ length: JOBS }, (_, n) => n.toString(16).padStart(32, "0"));
const ended = new Set();
let watchAnswers = 0;
const json = (body) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json", "preference-applied": "wait=30" } });
const pending = (id) => ({ id, result: "pending", progress: 0.5, eta_ms: 1000 });

// A held watch ends the first listed job still pending; a plain one lists every status.
function fakeFetch(url, init) {
  if (!url.includes("/jobs/watch")) return Promise.resolve(new Response("{}", { status: 404 }));
  const asked = JSON.parse(init.body).ids;
  watchAnswers += 1;
  if (!url.includes("wait=")) return Promise.resolve(json({ jobs: asked.map((id) => (ended.has(id) ? { ...pending(id), result: "completed", progress: 1, eta_ms: 0 } : pending(id))), missing: [] }));
  const next = asked.find((id) => !ended.has(id));
  ended.add(next);
  return Promise.resolve(json({ jobs: [{ id: next, result: "completed", progress: 1, eta_ms: 0 }], missing: [] }));
}

const watcher = new client.VideoTranslationClient("http://127.0.0.1:9", { fetch: fakeFetch, initialDelayMs: 1, longPollWaitMs: 30_000, jitter: 0 });
const before = process.cpuUsage();
const started = performance.now();
const settled = await watcher.waitForAll(ids);
const cpu = process.cpuUsage(before);
const failed = settled.filter((s) => s.status !== "fulfilled").length;
console.log(JSON.stringify({ watchAnswers, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - started, failed }));
