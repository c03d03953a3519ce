#!/usr/bin/env node
// Main-thread CPU per watch answer: one client watching 1,000 jobs through its one watch,
// the server played by a `fetch` option that answers each held watch at once with the next
// job ended (so the run is all client work: reading 1,000-id answers, re-sending the watch,
// settling waits). This build's package beside a baseline's (BENCH_BASELINE_REF, default
// a5d0623: the last build whose I/O was hand-written JS), each in its own Node process,
// alternating, in the same run. CPU is the process's (user + system): the main thread's,
// plus what V8's helper threads spend.
//
//   BENCH_WATCH_CPU_RUNS=5 node bench/watch-cpu.mjs
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO } from "./package-files.mjs";

const JOBS = 1000;
const RUNS = Number(process.env.BENCH_WATCH_CPU_RUNS ?? 5);
const BASELINE_REF = process.env.BENCH_BASELINE_REF ?? "a5d0623";

/** The baseline's package, built once in a worktree by its own scripts/build-pkg.sh. */
function baselinePackage() {
  const tree = path.join(REPO, "target", "baseline", BASELINE_REF);
  const pkg = path.join(tree, "client-wasm", "pkg");
  if (fs.existsSync(path.join(pkg, "video_translation_client_bg.wasm"))) return pkg;
  if (!fs.existsSync(tree)) execFileSync("git", ["worktree", "add", "--detach", tree, BASELINE_REF], { cwd: REPO, stdio: "ignore" });
  // Its build needed rust-src (it rebuilt std); its node_modules come from its own lock file.
  execFileSync("rustup", ["component", "add", "rust-src"], { stdio: "ignore" });
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: tree, stdio: "ignore" });
  execFileSync("bash", ["scripts/build-pkg.sh"], { cwd: tree, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CARGO_TARGET_DIR: path.join(REPO, "target", "baseline-build") } });
  return pkg;
}

const builds = [
  { name: `baseline (${BASELINE_REF}: I/O in hand-written JS)`, pkg: baselinePackage() },
  { name: "this build (I/O in Rust: web-sys, gloo-timers, spawn_local)", pkg: path.join(REPO, "client-wasm", "pkg") },
];
const runs = builds.map(() => []);
for (let run = 0; run < RUNS; run += 1) {
  builds.forEach((build, at) => {
    const out = execFileSync(process.execPath, [path.join(REPO, "bench", "watch-cpu-worker.mjs"), build.pkg, String(JOBS)], { encoding: "utf8" });
    runs[at].push(JSON.parse(out.trim().split("\n").at(-1)));
  });
}

console.log(`Watch CPU: ${JOBS.toLocaleString("en")} jobs through one client, every held watch answered at once with one job ended; ${RUNS} alternating runs per build, 2 shared cores.\n`);
console.log("| build | watch answers per run | CPU per watch answer, every run (µs) | median | failed waits |");
console.log("|---|---|---|---|---|");
const medians = builds.map((build, at) => {
  const perAnswer = runs[at].map((r) => (r.cpuMs * 1000) / r.watchAnswers);
  const sorted = [...perAnswer].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const answers = [...new Set(runs[at].map((r) => r.watchAnswers))].join(" / ");
  const failed = runs[at].reduce((sum, r) => sum + r.failed, 0);
  console.log(`| ${build.name} | ${answers} | ${perAnswer.map((us) => us.toFixed(0)).join(", ")} | ${median.toFixed(0)} | ${failed} |`);
  return median;
});
console.log(`\nThis build / baseline, medians: ${(medians[1] / medians[0]).toFixed(2)}×`);
