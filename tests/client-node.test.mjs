// The npm package in Node 20 against the real server binary.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSleepLongerThanPlain, FAST, loadClient, startServer, until } from "./helpers.mjs";

let server;
let VideoTranslationClient;

before(async () => {
  server = await startServer(["--delay", "30"]);
  ({ VideoTranslationClient } = await loadClient());
});
after(() => server?.stop());

const fastClient = (options = {}) => new VideoTranslationClient(server.url, { ...FAST, ...options });

describe("createJob and getStatus", () => {
  test("createJob returns a pending JobStatus in camelCase", async () => {
    const job = await fastClient().createJob({ durationMs: 5000, outcome: "completed" });
    assert.match(job.id, /^[0-9a-f]{32}$/);
    assert.equal(job.result, "pending");
    assert.equal(job.progress, 0);
    assert.equal(job.etaMs, 5000);
    assert.equal("eta_ms" in job, false, "the wire's snake_case does not leak into JS");
  });

  test("createJob without arguments takes the server's defaults", async () => {
    const job = await fastClient().createJob();
    assert.equal(job.etaMs, 30_000);
  });

  test("getStatus reads one job, and the default job without an id", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    const status = await client.getStatus(job.id);
    assert.equal(status.id, job.id);
    assert.equal(status.result, "pending");
    const fallback = await client.getStatus();
    assert.equal(fallback.id, "default");
  });

  test("bad createJob requests reject before any request with errors naming the field", async () => {
    const client = fastClient();
    await assert.rejects(client.createJob({ durationMs: -1 }), { name: "RangeError", message: /durationMs/ });
    await assert.rejects(client.createJob({ durationMs: 1.5 }), { name: "RangeError", message: /durationMs/ });
    await assert.rejects(client.createJob({ outcome: "pending" }), { name: "TypeError", message: /outcome/ });
    await assert.rejects(client.createJob({ duration: 5 }), { name: "TypeError", message: /unknown key "duration"/ });
  });

  test("the server's own 400 surfaces as HttpError with its code", async () => {
    await assert.rejects(fastClient().createJob({ durationMs: 100_000_000 }), (error) => {
      assert.equal(error.name, "HttpError");
      assert.equal(error.status, 400);
      assert.equal(error.code, "bad_request");
      assert.match(error.message, /at most 86400000/);
      return true;
    });
  });

  test("an unreachable server rejects with NetworkError", async () => {
    const client = new VideoTranslationClient("http://127.0.0.1:9", FAST);
    await assert.rejects(client.getStatus(), { name: "NetworkError" });
  });
});

describe("waitForCompletion", () => {
  test("resolves completed, reporting every poll to onUpdate", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 500, outcome: "completed" });
    const updates = [];
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) });

    assert.equal(outcome.result, "completed");
    assert.equal(outcome.attempts, updates.length);
    assert.ok(outcome.elapsedMs >= 400, `a 500 ms job took ${outcome.elapsedMs} ms`);
    assert.equal(outcome.status.result, "completed");
    for (const [index, update] of updates.entries()) {
      assert.equal(update.attempt, index + 1);
      assert.deepEqual(Object.keys(update).sort(), [
        "attempt", "elapsedMs", "etaMs", "id", "nextPollInMs", "nextPollWaitMs", "progress", "reason", "result",
      ]);
      assert.equal(update.nextPollWaitMs, null, "plain mode never long-polls");
    }
    const progress = updates.map((u) => u.progress);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress never goes back");
    assert.equal(updates.at(-1).nextPollInMs, null);
  });

  test("resolves error for a job that fails", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 100, outcome: "error" });
    const outcome = await client.waitForCompletion(job.id);
    assert.equal(outcome.result, "error");
  });

  test("rejects with TimeoutError when maxWaitMs runs out, after a last poll at the deadline", async () => {
    const client = fastClient({ maxWaitMs: 500 });
    const job = await client.createJob({ durationMs: 60_000 });
    const updates = [];
    await assert.rejects(client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) }), (error) => {
      assert.equal(error.name, "TimeoutError");
      assert.ok(error instanceof Error);
      assert.equal(error.attempts, updates.length);
      assert.ok(error.elapsedMs >= 500, `gave up early, at ${error.elapsedMs} ms`);
      return true;
    });
    assert.ok(updates.at(-1).elapsedMs >= 500, "the last poll is made at the deadline");
  });

  test("rejects with TimeoutError after maxAttempts requests", async () => {
    const client = fastClient({ maxAttempts: 3 });
    const job = await client.createJob({ durationMs: 60_000 });
    await assert.rejects(client.waitForCompletion(job.id), { name: "TimeoutError", attempts: 3 });
  });

  test("rejects with AbortError when aborted, and polls no more", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    const controller = new AbortController();
    const updates = [];
    const waiting = client.waitForCompletion(job.id, {
      signal: controller.signal,
      onUpdate: (u) => {
        updates.push(u);
        if (u.attempt === 3) controller.abort(new Error("enough"));
      },
    });
    await assert.rejects(waiting, (error) => {
      assert.equal(error.name, "AbortError");
      assert.equal(error.cause.message, "enough");
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(updates.length, 3, "no poll after the abort");
  });

  test("an already-aborted signal rejects without any request", async () => {
    const client = fastClient();
    const updates = [];
    await assert.rejects(
      client.waitForCompletion("0".repeat(32), { signal: AbortSignal.abort(), onUpdate: (u) => updates.push(u) }),
      { name: "AbortError" },
    );
    assert.equal(updates.length, 0);
  });

  test("an unknown job rejects with HttpError 404 at its first answer", async () => {
    const client = fastClient();
    const seen = [];
    const wait = client.waitForCompletion("no-such-job", { onUpdate: (u) => seen.push(u), onRetry: (r) => seen.push(r) });
    await assert.rejects(wait, { name: "HttpError", status: 404, code: "not_found" });
    assert.deepEqual(seen, [], "a 404 is not retried");
  });

  test("transient network failures are retried and reported to onRetry", async () => {
    const client = new VideoTranslationClient("http://127.0.0.1:9", { ...FAST, maxAttempts: 3 });
    const retries = [];
    await assert.rejects(client.waitForCompletion(undefined, { onRetry: (r) => retries.push(r) }), (error) => {
      assert.equal(error.name, "TimeoutError");
      assert.equal(error.attempts, 3);
      assert.match(error.message, /last request failed/);
      return true;
    });
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
    assert.ok(retries.every((r) => typeof r.error === "string" && r.nextPollInMs > 0));
  });

  test("an error thrown by onUpdate rejects the wait with that error", async () => {
    const client = fastClient();
    const job = await client.createJob({ durationMs: 60_000 });
    const bug = new Error("bug in the callback");
    await assert.rejects(client.waitForCompletion(job.id, { onUpdate: () => { throw bug; } }), (error) => error === bug);
  });

  test("bad wait options are rejected with a TypeError naming them", async () => {
    const client = fastClient();
    await assert.rejects(client.waitForCompletion("x", { onUpdate: 5 }), { name: "TypeError", message: /onUpdate/ });
    await assert.rejects(client.waitForCompletion("x", { signal: {} }), { name: "TypeError", message: /signal/ });
    await assert.rejects(client.waitForCompletion("x", { onupdate() {} }), { name: "TypeError", message: /onupdate/ });
    await assert.rejects(client.waitForCompletion(42), { name: "TypeError", message: /jobId/ });
  });
});

describe("a hostile watch route", () => {
  // A server whose held POST /jobs/watch answers 200 at once, naming none of the jobs asked
  // for: each such answer counts against every job in it (two unreadable answers in a row are
  // a ProtocolError), so the client stops within a few requests instead of re-sending in a loop
  // that starves every other timer of the process (as it did: 300 to 4,000 requests in two
  // seconds, and a wait that never settled). Its first,
  // plain watch answers as the contract says, pending and near the end, so that the client
  // long-polls next.
  for (const body of ['{"jobs":[],"missing":[]}', "{}", '{"jobs":[]}']) {
    test(`a held watch answered ${body} ends each wait in a ProtocolError, without spinning`, async () => {
      const sent = [];
      const fetch = async (url, init) => {
        const held = url.includes("wait=");
        sent.push(held ? "held" : "plain");
        const answer = held ? body : JSON.stringify({ jobs: JSON.parse(init.body).ids.map((id) => ({ id, result: "pending", progress: 0.99, eta_ms: 10 })), missing: [] });
        return new Response(answer, { status: 200, headers: { "content-type": "application/json", "preference-applied": "wait=30" } });
      };
      const client = new VideoTranslationClient("http://127.0.0.1:9", { fetch, initialDelayMs: 1, jitter: 0 });
      const settled = await client.waitForAll(["aa", "bb"]);
      for (const { status, reason } of settled) {
        assert.equal(status, "rejected");
        assert.equal(reason.name, "ProtocolError");
        assert.match(reason.message, /names none of the jobs asked for|not a watch answer/);
      }
      assert.deepEqual(sent.slice(0, 2), ["plain", "held"], "the jobs long-polled");
      assert.ok(sent.length <= 4, `${sent.length} requests: ${sent.join(", ")}`);
    });
  }
});

describe("adaptive mode (the default) against a server that hints and long-polls", () => {
  // Long-polls are what this part tests: the server streams, and without `stream: false` the
  // client would carry every job on a stream instead (stream-faults.test.mjs tests those).
  const adaptiveClient = (options = {}) => new VideoTranslationClient(server.url, { stream: false, ...options });

  test("a job ending within one long-poll costs two requests, and its end is seen at once", async () => {
    const client = adaptiveClient();
    const job = await client.createJob({ durationMs: 1500 });
    const updates = [];
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) });
    assert.equal(outcome.result, "completed");
    assert.equal(outcome.attempts, 2, "one look, then one long-poll held until the end");
    assert.ok(updates[0].nextPollInMs <= 1000, `first gap ${updates[0].nextPollInMs} ms: plain backoff's first at most`);
    assert.equal(updates[0].nextPollWaitMs, 30_000, "after that gap, a long-poll");
    // Seen at once: the end came as the answer to that long-poll, which the server holds
    // until the job ends (not from a later poll).
    assert.equal(updates[1].result, "completed");
    assert.ok(outcome.elapsedMs >= 1400, `the end was reported at ${outcome.elapsedMs} ms, before the job ended`);
  });

  test("far from done it sleeps no longer than plain backoff would, and long-polls in between", async () => {
    // Estimated 8 s with long-polls of 1 s and gaps of 0.5 s growing ×2: plain backoff's
    // gaps are 0.5, 1, 2, 4 s; no sleep may be longer than the gap plain is in by then.
    const options = { longPollWaitMs: 1000, initialDelayMs: 500, backoffFactor: 2, maxDelayMs: 4000 };
    const client = adaptiveClient(options);
    const job = await client.createJob({ durationMs: 8000, estimateMs: 8000 });
    const updates = [];
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) });
    assert.equal(outcome.result, "completed");
    assertNoSleepLongerThanPlain(updates, options);
    assert.ok(updates.some((u) => u.nextPollWaitMs === 1000), "it long-polls");
    assert.ok(outcome.attempts <= 9, `${outcome.attempts} requests for an 8 s job`);
  });

  test("a job that ends at a tenth of its estimate: no sleep longer than plain backoff's", async () => {
    const options = { longPollWaitMs: 1000, initialDelayMs: 200, maxDelayMs: 1000 };
    const client = adaptiveClient(options);
    const job = await client.createJob({ durationMs: 2000, estimateMs: 20_000 });
    const updates = [];
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) });
    assert.equal(outcome.result, "completed");
    assertNoSleepLongerThanPlain(updates, options);
  });

  test("an estimate that is 20 % long: no sleep longer than plain backoff's, and the end answers a long-poll", async () => {
    const client = adaptiveClient({ longPollWaitMs: 1000 });
    const job = await client.createJob({ durationMs: 4000, estimateMs: 5000 });
    const updates = [];
    const outcome = await client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) });
    assert.equal(outcome.result, "completed");
    assertNoSleepLongerThanPlain(updates);
    // Near the (late) estimate it long-polls rather than sleeps past the true end.
    assert.notEqual(updates.at(-2).nextPollWaitMs, null, `the end answered a plain poll: ${JSON.stringify(updates.at(-2))}`);
  });

  test("aborting during a held long-poll rejects at once", async () => {
    const client = adaptiveClient();
    const job = await client.createJob({ durationMs: 20_000 });
    const controller = new AbortController();
    const waiting = client.waitForCompletion(job.id, { signal: controller.signal });
    // The first gap is at most 1 s; then the long-poll is held.
    await until(() => client.heldRequests === 1, { what: "a long-poll held" });
    const started = performance.now();
    controller.abort();
    await assert.rejects(waiting, { name: "AbortError" });
    // Half the 20 s job, which a held request not cancelled would wait for.
    assert.ok(performance.now() - started < 10_000, "the held request was cancelled, not waited out");
    assert.equal(client.heldRequests, 0);
  });

  test("maxWaitMs holds while long-polling: the wait shrinks to the deadline", async () => {
    // Estimated to end at 1 s, it sleeps, then long-polls: held for less than its 30 s.
    const client = adaptiveClient({ maxWaitMs: 2500 });
    const job = await client.createJob({ durationMs: 60_000, estimateMs: 1000 });
    const updates = [];
    await assert.rejects(client.waitForCompletion(job.id, { onUpdate: (u) => updates.push(u) }), (error) => {
      assert.equal(error.name, "TimeoutError");
      // Not before the deadline; and well before the 30 s a long-poll not shrunk would hold.
      assert.ok(error.elapsedMs >= 2500 && error.elapsedMs < 15_000, `gave up at ${error.elapsedMs} ms`);
      return true;
    });
    // The plan: every request, held or not, is due to end by the deadline.
    assert.ok(updates.some((u) => u.nextPollWaitMs !== null), `it long-polled: ${JSON.stringify(updates)}`);
    for (const u of updates.filter((u) => u.nextPollInMs !== null)) {
      assert.ok(u.elapsedMs + u.nextPollInMs + (u.nextPollWaitMs ?? 0) <= 2500 + 1, `planned past the deadline: ${JSON.stringify(u)}`);
    }
  });
});

describe("constructor", () => {
  test("normalizes the base URL and keeps a path prefix", () => {
    assert.equal(new VideoTranslationClient("http://127.0.0.1:8080/").baseUrl, "http://127.0.0.1:8080");
    assert.equal(new VideoTranslationClient("https://api.example/v1/").baseUrl, "https://api.example/v1");
  });

  test("rejects bad URLs and options with errors that say what to fix", () => {
    assert.throws(() => new VideoTranslationClient("localhost:8080"), { name: "TypeError", message: /baseUrl/ });
    assert.throws(() => new VideoTranslationClient(8080), { name: "TypeError", message: /baseUrl/ });
    assert.throws(() => new VideoTranslationClient("ws://x"), { name: "TypeError", message: /http or https/ });
    assert.throws(() => new VideoTranslationClient("http://x", { backoffFactor: 0.5 }), { name: "RangeError", message: /backoffFactor/ });
    assert.throws(() => new VideoTranslationClient("http://x", { maxDelayMs: 10, initialDelayMs: 100 }), { name: "RangeError", message: /maxDelayMs/ });
    assert.throws(() => new VideoTranslationClient("http://x", { requestTimeoutMs: -5 }), { name: "RangeError", message: /requestTimeoutMs/ });
    assert.throws(() => new VideoTranslationClient("http://x", { maxAttempts: 2.5 }), { name: "RangeError", message: /maxAttempts/ });
    assert.throws(() => new VideoTranslationClient("http://x", "fast"), { name: "TypeError", message: /options/ });
  });

  test("the adaptive options are checked too", () => {
    assert.throws(() => new VideoTranslationClient("http://x", { etaTolerance: 2 }), { name: "RangeError", message: /etaTolerance/ });
    assert.throws(() => new VideoTranslationClient("http://x", { adaptive: "yes" }), { name: "TypeError", message: /adaptive/ });
    assert.throws(() => new VideoTranslationClient("http://x", { longPollWaitMs: -1 }), { name: "RangeError", message: /longPollWaitMs/ });
  });

  test("Infinity lifts the attempt and time limits", async () => {
    // Gaps of 20 ms on a 1 s job: about 50 polls. Five attempts run out; Infinity does not.
    const options = { adaptive: false, initialDelayMs: 20, maxDelayMs: 20, jitter: 0 };
    const limited = new VideoTranslationClient(server.url, { ...options, maxAttempts: 5 });
    const job = await limited.createJob({ durationMs: 1000 });
    await assert.rejects(limited.waitForCompletion(job.id), { name: "TimeoutError", attempts: 5 });
    const unlimited = new VideoTranslationClient(server.url, { ...options, maxAttempts: Infinity, maxWaitMs: Infinity });
    const outcome = await unlimited.waitForCompletion(job.id);
    assert.equal(outcome.result, "completed");
    assert.ok(outcome.attempts > 5, `${outcome.attempts} attempts`);
  });
});

describe("jitter", () => {
  test("each wait draws its own gaps, within [d × (1 − jitter), d]", async () => {
    // Five waits (two clients) on one 30 s job, plain mode, full jitter: their first gaps are
    // five independent draws from [0, 1000] ms. Waits that shared a random stream would
    // poll in lockstep, the thundering herd jitter is there to prevent.
    const options = { adaptive: false, initialDelayMs: 1000, maxDelayMs: 1000, jitter: 1 };
    const clients = [new VideoTranslationClient(server.url, options), new VideoTranslationClient(server.url, options)];
    const job = await clients[0].createJob({ durationMs: 30_000 });
    const controller = new AbortController();
    const firstGaps = await Promise.all(
      [0, 1, 0, 1, 0].map(
        (which) =>
          new Promise((resolve) => {
            clients[which]
              .waitForCompletion(job.id, { signal: controller.signal, onUpdate: (update) => resolve(update.nextPollInMs) })
              .catch(() => {});
          }),
      ),
    );
    controller.abort();
    for (const gap of firstGaps) assert.ok(gap >= 0 && gap <= 1000, `gap ${gap} ms`);
    assert.ok(new Set(firstGaps).size >= 4, `first gaps ${firstGaps}: the waits drew the same jitter`);
  });
});
