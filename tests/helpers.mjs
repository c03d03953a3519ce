// Shared by the end-to-end suites: the real server binary, the real npm package.
import { spawn } from "node:child_process";
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
 * logs instead of keeping them for error messages.
 */
export async function startServer(args = [], { bin = SERVER_BIN, logLevel, quiet = false } = {}) {
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

  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 10 s: ${stderr}`)), 10_000);
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
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
  };
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
