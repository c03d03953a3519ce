// The package's types as TypeScript users compile them: installed from the packed tarball,
// `--strict` with `skipLibCheck` off (so the package's .d.ts files are checked too), with and
// without the DOM library (a Node service has `"lib": ["es2022"], "types": ["node"]`), with
// `moduleResolution` `nodenext` and `bundler`, by TypeScript 5.2 (the oldest docs/client.md
// names), the newest 5.x, 6 and 7 (the native compiler), each pinned in package.json.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, run, removeScratch, scratchProject } from "./helpers.mjs";

const COMPILERS = {
  "5.2": "typescript-5.2",
  "5.9": "typescript",
  "6.0": "typescript-6",
  "7.0": "typescript-7",
};
const TYPE_ROOTS = [path.join(REPO, "node_modules", "@types")];

// What a program sees besides the ES library: Node's types (@types/node) or the DOM's.
const ENVIRONMENTS = {
  "Node without DOM": { lib: ["es2022"], types: ["node"] },
  "DOM without Node": { lib: ["es2022", "dom"], types: [] },
};
const RESOLUTIONS = {
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
};

// A service's use of the API: init by bytes or by URL, a custom fetch and headers, a signal,
// every callback, and errors narrowed by name. Typed throughout, so an `any` or a missing
// global in the package's .d.ts shows as an error here or there.
const CONSUMER = `
import init, {
  initSync,
  VideoTranslationClient,
  type ClientOptions,
  type JobStatus,
  type StatusUpdate,
  type RetryInfo,
  type VideoTranslationError,
  type WaitResult,
} from "video-translation-client";

export async function watch(baseUrl: string, wasm: Uint8Array, wasmUrl: URL): Promise<string> {
  initSync({ module: wasm });
  await init({ module_or_path: wasmUrl });
  const options: ClientOptions = {
    initialDelayMs: 50,
    headers: async () => ({ Authorization: "Bearer KEY" }),
    fetch: (input: string, init: RequestInit): Promise<Response> => fetch(input, init),
  };
  const client = new VideoTranslationClient(baseUrl, options);
  const job: JobStatus = await client.createJob({ durationMs: 100, outcome: "completed" });
  const controller = new AbortController();
  try {
    const outcome: WaitResult = await client.waitForCompletion(job.id, {
      onUpdate: (update: StatusUpdate) => void (update.progress ?? 0).toFixed(2),
      onRetry: (retry: RetryInfo) => void retry.attempt,
      signal: controller.signal,
    });
    return outcome.result;
  } catch (caught) {
    const error = caught as VideoTranslationError;
    return error.name === "HttpError" ? \`\${error.status}\` : error.name;
  }
}
`;

// Must not compile in any environment: the types are precise, not \`any\`.
const WRONG = `
import { VideoTranslationClient } from "video-translation-client";
new VideoTranslationClient("http://127.0.0.1:1", { maxDelayMs: "5" });
`;

let project;
before(async () => {
  const files = { "consumer.ts": CONSUMER, "wrong.ts": WRONG };
  for (const [environment, { lib, types }] of Object.entries(ENVIRONMENTS)) {
    for (const [resolution, modules] of Object.entries(RESOLUTIONS)) {
      for (const file of ["consumer.ts", "wrong.ts"]) {
        files[configName(environment, resolution, file)] = JSON.stringify({
          // skipLibCheck off checks every .d.ts of the program: the package's and
          // @types/node's; TypeScript's own lib files are left out, as they change nothing here.
          compilerOptions: {
            strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true,
            target: "es2022", lib, types, typeRoots: TYPE_ROOTS, ...modules,
          },
          files: [file],
        });
      }
    }
  }
  project = await scratchProject("typescript", files);
});
after(() => removeScratch(project));

function configName(environment, resolution, file) {
  return `tsconfig.${environment.replaceAll(" ", "-")}.${resolution}.${file.replace(".ts", "")}.json`;
}

/** Compiles with TypeScript `version`; resolves its exit code and messages. */
async function compile(version, config) {
  const tsc = path.join(REPO, "node_modules", COMPILERS[version], "bin", "tsc");
  assert.ok(fs.existsSync(tsc), `no ${tsc}: run npm ci`);
  const { code, stdout, stderr } = await run(process.execPath, [tsc, "-p", path.join(project, config)], { cwd: project });
  return { code, output: `${stdout}${stderr}` };
}

for (const version of Object.keys(COMPILERS)) {
  test(`TypeScript ${version}: the package's types compile under --strict with and without DOM, nodenext and bundler`, async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO, "node_modules", COMPILERS[version], "bin", "tsc"), "--version"]);
    assert.match(stdout, new RegExp(`Version ${version.replace(".", "\\.")}\\.`), "the compiler is the version named");
    for (const environment of Object.keys(ENVIRONMENTS)) {
      for (const resolution of Object.keys(RESOLUTIONS)) {
        const good = await compile(version, configName(environment, resolution, "consumer.ts"));
        assert.equal(good.code, 0, `${environment}, ${resolution}:\n${good.output}`);
      }
    }
    // Once per compiler (the types' precision does not depend on the environment).
    const wrong = await compile(version, configName("DOM without Node", "bundler", "wrong.ts"));
    assert.notEqual(wrong.code, 0, "a string for maxDelayMs compiled");
    // The error is the wrong use, and only it: the package's own files compile.
    assert.match(wrong.output, /wrong\.ts.*TS2322/s, wrong.output);
    assert.doesNotMatch(wrong.output, /node_modules\/video-translation-client/, wrong.output);
  });
}
