// Requests that change something, through the npm package in Node against the real server:
// cancelJob, a wait's cancelOnAbort, and createJob's safe retries (Idempotency-Key).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FAST, loadClient, startServer } from "./helpers.mjs";

let server;
let VideoTranslationClient;

before(async () => {
  server = await startServer();
  ({ VideoTranslationClient } = await loadClient());
});
after(() => server?.stop());

const fastClient = (options = {}) => new VideoTranslationClient(server.url, { ...FAST, ...options });

/** A `fetch` that records every request (method, path, Idempotency-Key) before sending it. */
function recordingFetch(decide = () => undefined) {
  const sent = [];
  const fetchFn = async (url, init) => {
    const request = {
      method: init.method,
      path: new URL(url).pathname,
      key: new Headers(init.headers).get("idempotency-key"),
    };
    sent.push(request);
    return (await decide(request, sent.length, url, init)) ?? fetch(url, init);
  };
  return { sent, fetch: fetchFn };
}

/** Polls `getStatus` until `check` holds, for at most `ms`. */
async function eventually(client, id, check, ms = 5_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = await client.getStatus(id);
    if (check(status) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("cancelJob", () => {
  test("ends a pending job as error with reason cancelled, and a wait on it with it", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    assert.equal(job.reason, null, "a job that has not ended has no reason");
    const wait = client.waitForCompletion(job.id);
    const cancelled = await client.cancelJob(job.id);
    assert.equal(cancelled.id, job.id);
    assert.equal(cancelled.result, "error");
    assert.equal(cancelled.reason, "cancelled");
    const result = await wait;
    assert.equal(result.result, "error");
    assert.equal(result.status.reason, "cancelled");
  });

  test("is idempotent: cancelling again answers the same status", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    await client.cancelJob(job.id);
    const again = await client.cancelJob(job.id);
    assert.equal(again.result, "error");
    assert.equal(again.reason, "cancelled");
  });

  test("a job that ended on its own rejects with HttpError 409, sent once", async () => {
    const { sent, fetch } = recordingFetch();
    const client = fastClient({ fetch });
    const job = await client.createJob({ durationMs: 0 });
    await client.waitForCompletion(job.id);
    sent.length = 0;
    await assert.rejects(client.cancelJob(job.id), { name: "HttpError", status: 409, code: "conflict" });
    assert.equal(sent.length, 1, "a 409 is not retried");
  });

  test("an unknown job rejects with HttpError 404, and a missing id with a TypeError", async () => {
    const client = fastClient();
    await assert.rejects(client.cancelJob("0123456789abcdef0123456789abcdef"), { name: "HttpError", status: 404 });
    await assert.rejects(client.cancelJob(), { name: "TypeError", message: /jobId/ });
    await assert.rejects(client.cancelJob(""), { name: "TypeError", message: /jobId/ });
  });

  test("a server error is retried, at most three attempts", async () => {
    const { sent, fetch } = recordingFetch(() => new Response('{"error":{"code":"busy","message":"busy"}}', { status: 503 }));
    const client = fastClient({ fetch });
    await assert.rejects(client.cancelJob("0123456789abcdef0123456789abcdef"), { name: "HttpError", status: 503 });
    assert.deepEqual(
      sent.map((request) => `${request.method} ${request.path}`),
      Array(3).fill("POST /jobs/0123456789abcdef0123456789abcdef/cancel"),
    );
  });
});

describe("cancelOnAbort", () => {
  test("an aborted wait with cancelOnAbort cancels its job on the server", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    const controller = new AbortController();
    const wait = client.waitForCompletion(job.id, { signal: controller.signal, cancelOnAbort: true });
    setTimeout(() => controller.abort(new Error("the user left")), 100);
    await assert.rejects(wait, { name: "AbortError" });
    const status = await eventually(client, job.id, (status) => status.result !== "pending");
    assert.equal(status.result, "error");
    assert.equal(status.reason, "cancelled");
  });

  test("a signal aborted before the wait starts still cancels the job", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    const wait = client.waitForCompletion(job.id, { signal: AbortSignal.abort(), cancelOnAbort: true });
    await assert.rejects(wait, { name: "AbortError" });
    const status = await eventually(client, job.id, (status) => status.result !== "pending");
    assert.equal(status.reason, "cancelled");
  });

  test("without it, an aborted wait leaves the job running", async () => {
    const { sent, fetch } = recordingFetch();
    const client = fastClient({ fetch });
    const job = await client.createJob({ durationMs: 60_000 });
    const controller = new AbortController();
    const wait = client.waitForCompletion(job.id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(wait, { name: "AbortError" });
    assert.equal((await client.getStatus(job.id)).result, "pending");
    assert.equal(sent.filter((request) => request.path.endsWith("/cancel")).length, 0);
  });

  test("cancelOnAbort must be a boolean", async () => {
    await assert.rejects(fastClient().waitForCompletion("x", { cancelOnAbort: "yes" }), {
      name: "TypeError",
      message: /cancelOnAbort must be a boolean/,
    });
  });
});

describe("createJob retries safely", () => {
  test("an answer lost after the server made the job: the retry gets the same job", async () => {
    let made;
    const { sent, fetch: recording } = recordingFetch(async (request, count, url, init) => {
      if (count > 1) return undefined;
      // The request reaches the server, which makes the job; its answer is lost on the way.
      made = await (await fetch(url, init)).json();
      throw new TypeError("fetch failed: the connection was reset");
    });
    const client = fastClient({ fetch: recording });
    const job = await client.createJob({ durationMs: 60_000 });
    assert.equal(sent.length, 2);
    assert.match(sent[0].key, /^[0-9a-f]{32}$/);
    assert.equal(sent[1].key, sent[0].key, "the retry carries the same Idempotency-Key");
    assert.equal(job.id, made.id, "one job, not two");
  });

  test("each createJob has its own key", async () => {
    const { sent, fetch } = recordingFetch();
    const client = fastClient({ fetch });
    await client.createJob({ durationMs: 1000 });
    await client.createJob({ durationMs: 1000 });
    assert.equal(sent.length, 2);
    assert.notEqual(sent[0].key, sent[1].key);
  });

  test("5xx answers are retried up to three attempts; the last error is the rejection", async () => {
    const { sent, fetch } = recordingFetch(() => new Response("overloaded", { status: 503 }));
    await assert.rejects(fastClient({ fetch }).createJob(), { name: "HttpError", status: 503 });
    assert.equal(sent.length, 3);
    assert.equal(new Set(sent.map((request) => request.key)).size, 1);
  });

  test("a server back after two failures: the third attempt makes the job", async () => {
    const { sent, fetch } = recordingFetch((request, count) =>
      count <= 2 ? new Response("restarting", { status: 502 }) : undefined,
    );
    const job = await fastClient({ fetch }).createJob({ durationMs: 1000 });
    assert.match(job.id, /^[0-9a-f]{32}$/);
    assert.equal(sent.length, 3);
  });

  test("a 4xx is not retried", async () => {
    const { sent, fetch } = recordingFetch();
    await assert.rejects(fastClient({ fetch }).createJob({ durationMs: 100_000_000 }), { name: "HttpError", status: 400 });
    assert.equal(sent.length, 1);
  });

  test("getStatus, which changes nothing, is not retried", async () => {
    const { sent, fetch } = recordingFetch(() => new Response("overloaded", { status: 503 }));
    await assert.rejects(fastClient({ fetch }).getStatus("0123456789abcdef0123456789abcdef"), { name: "HttpError", status: 503 });
    assert.equal(sent.length, 1);
  });
});
