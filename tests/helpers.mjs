// Shared by the end-to-end suites: the real server binary, the real npm package.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PKG_DIR = path.join(REPO, "client-wasm", "pkg");
export const SERVER_BIN = process.env.VTS_SERVER_BIN ?? path.join(REPO, "target", "debug", "video-translation-server");

/**
 * Starts the server on a free loopback port. Resolves once it prints its address.
 * `stop()` ends it; it is also killed when this process exits.
 *
 * Options: `bin`, another binary that prints "listening on http://..." the same way (it is
 * then given `args` alone); `logLevel` for RUST_LOG (default warn); `quiet` to discard its
 * logs instead of keeping them for error messages; `startTimeoutMs` (default 10 s) for slow
 * starts, such as under valgrind.
 */
export async function startServer(args = [], { bin = SERVER_BIN, logLevel, quiet = false, startTimeoutMs = 10_000 } = {}) {
  if (!fs.existsSync(bin)) {
    throw new Error(`no binary at ${bin}: build it first (cargo build -p video-translation-server)`);
  }
  const argv = bin === SERVER_BIN || bin.endsWith("video-translation-server") ? ["--bind", "127.0.0.1:0", ...args] : args;
  const child = spawn(bin, argv, {
    stdio: ["ignore", "pipe", quiet ? "ignore" : "pipe"],
    env: { ...process.env, RUST_LOG: logLevel ?? process.env.RUST_LOG ?? "warn" },
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }));

  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not start within ${startTimeoutMs / 1000} s: ${stderr}`)),
      startTimeoutMs,
    );
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before listening: ${stderr}`));
    });
  });

  return {
    url,
    pid: child.pid,
    /** Resolves `{ code, signal }` when the process ends. */
    exited,
    /** What the server has logged so far (empty when started `quiet`). */
    stderr: () => stderr,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Asks `check()` (sync or async) every `everyMs` until it returns something truthy, and
 * resolves that. Rejects after `timeoutMs` naming `what`, with the last value seen: a test
 * waits for what it can observe, never for a fixed time that a loaded machine outlasts.
 */
export async function until(check, { what = "the condition", timeoutMs = 10_000, everyMs = 10 } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Asserts that no sleep a client planned (`nextPollInMs` of each of its `updates` but the last)
 * was longer than the gap plain backoff with the same `schedule` is in at that moment: the
 * server's estimate never makes it later than plain backoff. Its plan, not its clock: a busy
 * machine makes a client act late, never plan late. How late ends are really seen is
 * `make bench`'s (bench/polling.mjs, by how the estimate errs).
 */
export function assertNoSleepLongerThanPlain(updates, { initialDelayMs = 1000, backoffFactor = 1.5, maxDelayMs = 15_000 } = {}) {
  const plainGapAt = (ms) => {
    let [at, gap] = [0, initialDelayMs];
    while (gap < maxDelayMs && at + gap <= ms) [at, gap] = [at + gap, Math.min(gap * backoffFactor, maxDelayMs)];
    return gap;
  };
  for (const update of updates.slice(0, -1)) {
    assert.ok(update.nextPollInMs <= plainGapAt(update.elapsedMs) + 1, `slept ${update.nextPollInMs} ms at ${update.elapsedMs} ms`);
  }
}

/** Requests the server holds now, by kind (`long_poll`, `watch`), from its `GET /metrics`. */
export async function heldOnServer(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const held = {};
  for (const [, kind, count] of text.matchAll(/^vts_held_requests\{kind="(\w+)"\} (\d+)$/gm)) held[kind] = Number(count);
  return held;
}

let client;
/** The built npm package, initialized the Node way (`initSync` with the wasm bytes). */
export async function loadClient() {
  if (!client) {
    const jsPath = path.join(PKG_DIR, "video_translation_client.js");
    if (!fs.existsSync(jsPath)) throw new Error(`no package at ${PKG_DIR}: run make pkg`);
    client = await import(jsPath);
    client.initSync({ module: fs.readFileSync(path.join(PKG_DIR, "video_translation_client_bg.wasm")) });
  }
  return client;
}

/** Plain backoff that makes waits take a fraction of a second instead of minutes. */
export const FAST = Object.freeze({ initialDelayMs: 50, maxDelayMs: 200, jitter: 0, adaptive: false });

/**
 * Headless Chromium (the system's, driven by playwright-core) with a fresh profile and the
 * flags that keep it off the network. Returns a browser context; close it when done.
 */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "vts-chromium-")), {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1000, height: 900 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

let tarball;
/**
 * The built package as it would be published: `npm pack` of client-wasm/pkg, once per process.
 * Resolves the tarball's path.
 */
export async function packedPackage() {
  if (!tarball) {
    if (!fs.existsSync(path.join(PKG_DIR, "package.json"))) throw new Error(`no package at ${PKG_DIR}: run make pkg`);
    const destination = fs.mkdtempSync(path.join(os.tmpdir(), "vts-pack-"));
    const { stdout } = await mustRun("npm", ["pack", PKG_DIR, "--pack-destination", destination, "--json"]);
    tarball = path.join(destination, JSON.parse(stdout)[0].filename);
  }
  return tarball;
}

/**
 * A scratch npm project in a temporary folder with the packed package installed from its
 * tarball, as a user's app would have it, plus `dependencies` from the registry (e.g. vite).
 * `files` maps relative paths to contents. Resolves the folder; `removeScratch` deletes it.
 */
export async function scratchProject(name, files = {}, dependencies = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vts-${name}-`));
  const manifest = {
    name: `scratch-${name}`,
    private: true,
    type: "module",
    dependencies: { "video-translation-client": `file:${await packedPackage()}`, ...dependencies },
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), contents);
  }
  await mustRun("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, timeout: 300_000 });
  return dir;
}

export function removeScratch(dir) {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs a command; resolves `{ code, stdout, stderr }` whatever its exit code (a failure to
 * start, or a timeout, rejects).
 */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 120_000, maxBuffer: 16 << 20, ...options }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(Object.assign(error, { stdout, stderr }));
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** `run`, but a non-zero exit rejects with the command's output. */
export async function mustRun(command, args, options = {}) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}
