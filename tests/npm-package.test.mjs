// The package as it would be published (npm pack), installed from its tarball into scratch
// projects: its files and manifest, its README, its TypeScript types, and Node 20 ESM.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { PACKAGE_CEILING_GZIP, packageFiles } from "../bench/package-files.mjs";
import { REPO, mustRun, packedPackage, removeScratch, run, scratchProject, startServer } from "./helpers.mjs";

const TSC = path.join(REPO, "node_modules", ".bin", "tsc");
let server;
let project;

// A strict TypeScript consumer: every public type, narrowing on error names, and no `any`
// (with noImplicitAny and these annotations, an `any` in the .d.ts would not be caught, so
// the test below also asserts that wrong uses fail to compile).
const CONSUMER_TS = `
import init, {
  initSync,
  VideoTranslationClient,
  type ClientOptions,
  type CreatedJob,
  type CreateJobOptions,
  type JobResult,
  type JobStatus,
  type RetryInfo,
  type StatusUpdate,
  type VideoTranslationError,
  type WaitOptions,
  type WaitResult,
  type WaitSettled,
} from "video-translation-client";

export async function watch(baseUrl: string, bytes: Uint8Array): Promise<string> {
  initSync({ module: bytes });
  void init;
  let token = 0;
  const fetched: string[] = [];
  const options: ClientOptions = {
    initialDelayMs: 50, maxDelayMs: 200, jitter: 0, maxAttempts: 10, maxWaitMs: 5_000, adaptive: false,
    // A bearer token that rotates: asked for before each request.
    headers: async () => ({ Authorization: \`Bearer token-\${++token}\` }),
    fetch: (input: string, init: RequestInit) => {
      fetched.push(input);
      return fetch(input, init);
    },
  };
  const fixed: ClientOptions = { headers: { Authorization: "Bearer KEY" } };
  void fixed;
  const client = new VideoTranslationClient(baseUrl, options);
  const request: CreateJobOptions = { durationMs: 100, outcome: "completed", estimateMs: 100 };
  const created: CreatedJob = await client.createJob(request);
  const id: string = created.id;
  const status: JobStatus = created;
  void status;
  const all: WaitSettled[] = await client.waitForAll([id], { onUpdate: (u: StatusUpdate) => void u.index });
  if (all[0].status === "fulfilled" && fetched.length === 0) return "the custom fetch was not used";
  const held: number = client.heldRequests;
  void held;
  const seen: JobResult[] = [];
  const wait: WaitOptions = {
    onUpdate: (update: StatusUpdate) => {
      seen.push(update.result);
      const next: number | null = update.nextPollInMs;
      const held: number | null = update.nextPollWaitMs;
      const progress: number | null = update.progress;
      void [next, held, progress, update.attempt, update.elapsedMs, update.etaMs];
    },
    onRetry: (retry: RetryInfo) => void [retry.attempt, retry.elapsedMs, retry.error, retry.nextPollInMs],
    signal: new AbortController().signal,
  };
  try {
    const outcome: WaitResult = await client.waitForCompletion(id, wait);
    const result: "completed" | "error" = outcome.result;
    return \`\${result} \${outcome.attempts} \${outcome.elapsedMs} \${outcome.status?.result ?? "none"}\`;
  } catch (caught) {
    const error = caught as VideoTranslationError;
    switch (error.name) {
      case "HttpError": {
        const status: number = error.status;
        const code: string | null = error.code;
        return \`\${status} \${code}\`;
      }
      case "TimeoutError":
        return \`timeout after \${error.attempts} in \${error.elapsedMs}\`;
      default:
        return error.message;
    }
  }
}
`;

// Each line must fail to compile: proof that the types are precise, not \`any\`.
const WRONG_USES = {
  "an unknown option": `new VideoTranslationClient("http://x", { initialDelay: 5 });`,
  "a string where a number goes": `new VideoTranslationClient("http://x", { maxDelayMs: "5" });`,
  "an outcome that does not exist": `new VideoTranslationClient("http://x").createJob({ outcome: "done" });`,
  "progress used as a string": `new VideoTranslationClient("http://x").waitForCompletion("id", { onUpdate: (u) => u.progress.toUpperCase() });`,
  "status read before narrowing": `declare const e: VideoTranslationError; const s: number = e.status;`,
  "headers that are not headers": `new VideoTranslationClient("http://x", { headers: 42 });`,
  "a fetch that takes nothing like fetch": `new VideoTranslationClient("http://x", { fetch: (n: number) => n });`,
  "init's raw exports used as if typed": `import("video-translation-client").then(async (m) => { const raw: string = (await m.default()).__wbindgen_start; return raw; });`,
};

before(async () => {
  server = await startServer(["--delay", "30"]);
  project = await scratchProject("package", {
    "tsconfig.json": JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], skipLibCheck: false },
      files: ["consumer.ts"],
    }),
    "consumer.ts": CONSUMER_TS,
  });
});
after(async () => {
  await server?.stop();
  removeScratch(project);
});

test("the tarball holds the module, its types, the wasm, the command-line tool and a README, nothing else", async () => {
  const listing = execFileSync("tar", ["-tzf", await packedPackage()], { encoding: "utf8" })
    .trim()
    .split("\n")
    .sort();
  assert.deepEqual(listing, [
    "package/README.md",
    "package/bin/video-translation-status.js",
    "package/cli/display.js",
    "package/index.d.ts",
    "package/package.json",
    "package/video_translation_client.d.ts",
    "package/video_translation_client.js",
    "package/video_translation_client_bg.wasm",
  ]);
});

test("what a page downloads, the wasm and its glue, does not grow past its ceiling (103 KiB gzipped)", () => {
  // The package's limit, 72 KiB, is not met (bench/package-files.mjs says why); this catches
  // growth beyond today's size until it is.
  const gzipped = packageFiles().reduce((sum, file) => sum + zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length, 0);
  assert.ok(gzipped <= PACKAGE_CEILING_GZIP, `${gzipped} bytes gzipped, past the ceiling of ${PACKAGE_CEILING_GZIP} (make bench prints what it is made of)`);
});

test("package.json says what npm and bundlers need, with Cargo's name, version and license", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(project, "node_modules", "video-translation-client", "package.json"), "utf8"));
  const cargo = JSON.parse(execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps"], { cwd: REPO, encoding: "utf8" }))
    .packages.find((p) => p.name === "video-translation-client");
  assert.equal(manifest.name, "video-translation-client");
  assert.equal(manifest.version, cargo.version);
  assert.equal(manifest.license, cargo.license);
  assert.equal(manifest.description, cargo.description);
  assert.match(manifest.repository.url, /^git\+https:\/\/.+\.git$/);
  assert.equal(manifest.type, "module");
  assert.deepEqual(manifest.exports["."], { types: "./index.d.ts", default: "./video_translation_client.js" });
  assert.equal(manifest.exports["./video_translation_client_bg.wasm"], "./video_translation_client_bg.wasm");
  assert.equal(manifest.types, "./index.d.ts");
  assert.equal(manifest.sideEffects, false);
  assert.deepEqual(manifest.bin, { "video-translation-status": "bin/video-translation-status.js" });
  assert.ok(manifest.files.includes("README.md"));
});

test("the README shows install, every place it runs, every option and every error", () => {
  const readme = fs.readFileSync(path.join(project, "node_modules", "video-translation-client", "README.md"), "utf8");
  assert.match(readme, /^# video-translation-client/);
  for (const expected of ["npm install video-translation-client", "await init()", "initSync(", "new Worker(", '<script type="module">', "npx video-translation-status"]) {
    assert.ok(readme.includes(expected), `README lacks ${expected}`);
  }
  const dts = fs.readFileSync(path.join(project, "node_modules", "video-translation-client", "video_translation_client.d.ts"), "utf8");
  const options = [...dts.match(/export interface ClientOptions \{([\s\S]*?)\n\}/)[1].matchAll(/^\s+(\w+)\?:/gm)].map((m) => m[1]);
  assert.ok(options.length >= 10, `found the options: ${options}`);
  for (const option of options) assert.match(readme, new RegExp(`\\| \`${option}\` \\|`), `README's options table lacks ${option}`);
  for (const name of ["TimeoutError", "AbortError", "HttpError", "ProtocolError", "NetworkError"]) {
    assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), `README's errors table lacks ${name}`);
  }
});

test("the package's types have no `any`, and a strict TypeScript consumer compiles against them", async () => {
  // index.d.ts is the public API: wasm-bindgen's .d.ts, as it wrote it, with init's raw
  // exports (typed `any` there) retyped `unknown`.
  const dts = fs.readFileSync(path.join(project, "node_modules", "video-translation-client", "index.d.ts"), "utf8");
  assert.doesNotMatch(dts.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""), /\bany\b/);
  const result = await run(TSC, ["-p", project]);
  assert.equal(result.code, 0, `tsc --strict failed:\n${result.stdout}${result.stderr}`);
});

test("wrong uses of the API fail to compile", async () => {
  for (const [what, line] of Object.entries(WRONG_USES)) {
    const file = path.join(project, "wrong.ts");
    fs.writeFileSync(file, `import { VideoTranslationClient, type VideoTranslationError } from "video-translation-client";\nvoid VideoTranslationClient;\n${line}\nexport {};\n`);
    const result = await run(TSC, ["--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom", file]);
    assert.notEqual(result.code, 0, `${what} compiled: ${line}`);
    assert.match(result.stdout, /error TS\d+/, what);
  }
});

test("Node 20 ESM: import by name, initSync, watch a job to completed, abort another", async () => {
  fs.writeFileSync(
    path.join(project, "watch.mjs"),
    `
    import { readFileSync } from "node:fs";
    import { initSync, VideoTranslationClient } from "video-translation-client";
    initSync({ module: readFileSync(new URL(import.meta.resolve("video-translation-client/video_translation_client_bg.wasm"))) });
    const client = new VideoTranslationClient(process.argv[2], { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 });
    const updates = [];
    const job = await client.createJob({ durationMs: 300 });
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u.result) });

    const slow = await client.createJob({ durationMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user left")), 200);
    const started = performance.now();
    const aborted = await client.waitForCompletion(slow.id, { signal: controller.signal }).then(
      () => ({ name: "resolved" }),
      (error) => ({ name: error.name, cause: error.cause?.message, afterMs: performance.now() - started }),
    );
    console.log(JSON.stringify({ outcome, updates, aborted }));
    `,
  );
  const { stdout } = await mustRun(process.execPath, ["watch.mjs", server.url], { cwd: project });
  const { outcome, updates, aborted } = JSON.parse(stdout);
  assert.equal(outcome.result, "completed");
  assert.equal(updates.at(-1), "completed");
  // One update per attempt at least: a stream, one attempt, also brings the pending status.
  assert.ok(updates.length >= outcome.attempts, `${updates.length} updates for ${outcome.attempts} attempts`);
  assert.ok(updates.slice(0, -1).every((result) => result === "pending"), updates.join(", "));
  assert.equal(aborted.name, "AbortError");
  assert.equal(aborted.cause, "user left");
  // Half the 60 s job, which a wait that ignored its signal would run to.
  assert.ok(aborted.afterMs < 30_000, `the abort took ${aborted.afterMs} ms`);
});
