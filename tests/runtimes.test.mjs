// The packed package in each server-side runtime, each its real binary (Node running these
// tests; Deno and Bun from their npm packages, pinned in package.json): a script imports the
// package by name from a scratch project that installed the tarball, initializes it
// (`initSync` with the bytes everywhere; `init()` with no argument where `fetch` reads `file:`
// URLs, Deno and Bun), watches a job, aborts a wait and meets each error by its name.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, mustRun, removeScratch, scratchProject, startServer } from "./helpers.mjs";

const SCRIPT = `
import { readFileSync } from "node:fs";
import init, { initSync, VideoTranslationClient } from "video-translation-client";

const [baseUrl, how] = process.argv.slice(2);
if (how === "init") await init();
else initSync({ module: readFileSync(new URL(import.meta.resolve("video-translation-client/video_translation_client_bg.wasm"))) });

const fast = { initialDelayMs: 50, maxDelayMs: 200, jitter: 0, adaptive: false };
const client = new VideoTranslationClient(baseUrl, fast);
const failure = (promise) => promise.then(
  (value) => ({ resolved: value }),
  (error) => ({ name: error.name, isError: error instanceof Error, status: error.status, code: error.code, cause: error.cause?.message }),
);

const job = await client.createJob({ durationMs: 300 });
const updates = [];
const outcome = await client.waitForCompletion(job.id, { onUpdate: (update) => updates.push(update.result) });

const slow = await client.createJob({ durationMs: 60_000 });
const controller = new AbortController();
setTimeout(() => controller.abort(new Error("user left")), 100);
const aborted = await failure(client.waitForCompletion(slow.id, { signal: controller.signal }));

const timedOut = await failure(new VideoTranslationClient(baseUrl, { ...fast, maxAttempts: 2 }).waitForCompletion(slow.id));
const notFound = await failure(client.getStatus("0123456789abcdef0123456789abcdef"));
const notTheContract = await failure(
  new VideoTranslationClient(baseUrl, { ...fast, fetch: async () => new Response("<html>not a status</html>", { status: 200 }) }).getStatus(slow.id),
);
const unreachable = await failure(new VideoTranslationClient("http://127.0.0.1:9", fast).getStatus(slow.id));

console.log(JSON.stringify({ outcome, updates, aborted, timedOut, notFound, notTheContract, unreachable }));
`;

const BIN = path.join(REPO, "node_modules", ".bin");
// Each runtime's command for one script; none may reach anything but the loopback server.
const RUNTIMES = {
  node: { command: process.execPath, args: (script) => [script], inits: ["initSync"] },
  deno: {
    command: path.join(BIN, "deno"),
    args: (script, dir) => ["run", "--no-remote", "--allow-net=127.0.0.1", `--allow-read=${dir}`, script],
    inits: ["initSync", "init"],
  },
  bun: { command: path.join(BIN, "bun"), args: (script) => ["--no-install", "run", script], inits: ["initSync", "init"] },
};

let project;
let server;
before(async () => {
  server = await startServer(["--delay", "30"]);
  project = await scratchProject("runtimes", { "watch.mjs": SCRIPT });
});
after(async () => {
  await server?.stop();
  removeScratch(project);
});

for (const [runtime, { command, args, inits }] of Object.entries(RUNTIMES)) {
  for (const how of inits) {
    test(`${runtime} (${how}): watches a job, aborts a wait, and names each error`, async () => {
      assert.ok(fs.existsSync(command), `no ${runtime} at ${command}: run npm ci (scripts/install-tools.sh)`);
      const { stdout } = await mustRun(command, [...args("watch.mjs", project), server.url, how], {
        cwd: project,
        timeout: 60_000,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" },
      });
      const seen = JSON.parse(stdout.trim().split("\n").at(-1));
      assert.equal(seen.outcome.result, "completed");
      assert.equal(seen.updates.at(-1), "completed");
      assert.equal(seen.updates.length, seen.outcome.attempts);
      assert.deepEqual(seen.aborted, { name: "AbortError", isError: true, cause: "user left" });
      assert.equal(seen.timedOut.name, "TimeoutError");
      assert.equal(seen.timedOut.isError, true);
      assert.equal(seen.notFound.name, "HttpError");
      assert.equal(seen.notFound.status, 404);
      assert.equal(seen.notFound.code, "not_found");
      assert.equal(seen.notTheContract.name, "ProtocolError");
      assert.equal(seen.unreachable.name, "NetworkError");
    });
  }
}
