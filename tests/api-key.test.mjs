// The client against a server that wants an API key (`--api-key`), in Node: the key goes in
// `headers` (an object, or a function asked before each request), requests may go through
// the caller's own `fetch`, and a missing key is an HttpError 401 at once, not retried.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadClient, startServer } from "./helpers.mjs";

let server;
let VideoTranslationClient;
const FAST = { initialDelayMs: 50, maxDelayMs: 200, longPollWaitMs: 1_000 };

before(async () => {
  server = await startServer(["--api-key", "first-key", "--api-key", "second-key"]);
  ({ VideoTranslationClient } = await loadClient());
});
after(() => server?.stop());

test("without the key every call is an HttpError 401, after one request", async () => {
  const client = new VideoTranslationClient(server.url, FAST);
  await assert.rejects(client.createJob(), { name: "HttpError", status: 401, code: "unauthorized" });
  await assert.rejects(client.getStatus("0123456789abcdef0123456789abcdef"), { name: "HttpError", status: 401 });
  const retries = [];
  await assert.rejects(
    client.waitForCompletion("0123456789abcdef0123456789abcdef", { onRetry: (retry) => retries.push(retry) }),
    { name: "HttpError", status: 401, code: "unauthorized" },
  );
  assert.deepEqual(retries, [], "a 401 is not retried");
});

test("a fixed key in headers: create, watch, complete", async () => {
  const client = new VideoTranslationClient(server.url, { ...FAST, headers: { Authorization: "Bearer second-key" } });
  const job = await client.createJob({ durationMs: 300 });
  const outcome = await client.waitForCompletion(job.id);
  assert.equal(outcome.result, "completed");
});

test("a headers function is asked before every request, and a custom fetch sends them all", async () => {
  let asked = 0;
  const sent = [];
  const client = new VideoTranslationClient(server.url, {
    ...FAST,
    headers: async () => {
      asked += 1;
      return { Authorization: "Bearer first-key", "X-Request-Number": String(asked) };
    },
    fetch: (url, init) => {
      sent.push({ url, number: new Headers(init.headers).get("x-request-number") });
      return fetch(url, init);
    },
  });
  const job = await client.createJob({ durationMs: 500 });
  const outcome = await client.waitForCompletion(job.id);
  assert.equal(outcome.result, "completed");
  assert.ok(sent.length >= 2, `${sent.length} requests`);
  assert.equal(asked, sent.length, "asked once per request");
  assert.deepEqual(sent.map((request) => request.number), sent.map((_, i) => String(i + 1)), "a fresh value each time");
  assert.ok(sent.some((request) => request.url.endsWith("/jobs/watch") || request.url.includes("/jobs/watch?")), "the watch went through it too");
});

test("the open routes need no key", async () => {
  for (const path of ["/healthz", "/openapi.json", "/"]) {
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 200, path);
  }
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: "ok", auth: "bearer" });
});
