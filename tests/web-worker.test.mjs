// The same package in a Web Worker: no window, only the worker's globals (fetch, timers).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, startServer } from "./helpers.mjs";

let server;
let context;

before(async () => {
  server = await startServer(["--delay", "30"]);
  context = await launchChromium();
});
after(async () => {
  await context?.close();
  await server?.stop();
});

test("a module worker watches a job to completed and posts each update to the page", async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${server.url}/healthz`); // any page of the server's origin

  const messages = await page.evaluate(async (origin) => {
    const source = `
      import init, { VideoTranslationClient } from "${origin}/pkg/video_translation_client.js";
      await init();
      const client = new VideoTranslationClient("${origin}", { initialDelayMs: 50, maxDelayMs: 200 });
      const job = await client.createJob({ durationMs: 500 });
      const outcome = await client.waitForCompletion(job.id, {
        onUpdate: (update) => postMessage({ kind: "update", update }),
      });
      postMessage({ kind: "done", outcome, hasWindow: typeof window !== "undefined" });
    `;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })), { type: "module" });
    return new Promise((resolve, reject) => {
      const received = [];
      const timer = setTimeout(() => reject(new Error("the worker did not finish in 10 s")), 10_000);
      worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
      worker.onmessage = ({ data }) => {
        received.push(data);
        if (data.kind === "done") {
          clearTimeout(timer);
          worker.terminate();
          resolve(received);
        }
      };
    });
  }, server.url);

  const done = messages.at(-1);
  assert.equal(done.hasWindow, false, "the code ran without a window");
  assert.equal(done.outcome.result, "completed");
  const updates = messages.filter((m) => m.kind === "update").map((m) => m.update);
  assert.equal(updates.length, done.outcome.attempts);
  assert.equal(updates.at(-1).result, "completed");
});
