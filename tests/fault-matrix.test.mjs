// The client's fault matrix: each row a real fault from a misbehaving server (fault-server.mjs),
// and what the client must do about it: its result or error, how many requests it sends,
// and when. Everything runs in Node and again in headless Chromium.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { LATE_MS, PLAIN, ROWS, watch } from "./fault-matrix.mjs";
import { answer, freePort, startFaultServer } from "./fault-server.mjs";
import { launchChromium, loadClient, until } from "./helpers.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts a row's expectations against what the client reported and the server saw. */
function check(row, seen, requests) {
  const { expect } = row;
  const what = `${row.fault}: ${JSON.stringify(seen)}`;
  if (expect.result) assert.equal(seen.result, expect.result, what);
  if (expect.error) assert.equal(seen.errorName, expect.error, what);
  if (expect.status) assert.equal(seen.errorStatus, expect.status, what);
  if (expect.code) assert.equal(seen.errorCode, expect.code, what);
  if (expect.message) assert.match(seen.errorMessage, expect.message, what);
  if (expect.requests !== undefined) assert.equal(requests.length, expect.requests, `${what}; requests: ${requests.length}`);
  if (expect.requestsAtMost !== undefined) assert.ok(requests.length <= expect.requestsAtMost, `${what}; requests: ${requests.length}`);
  // A body the client stops reading: what the server could push before the client cancelled
  // (1 MiB read, plus the sockets' buffers), far from the 50 MB or the endless stream.
  if (expect.readAtMostBytes !== undefined) {
    for (const request of requests) assert.ok(request.bodyBytesSent <= expect.readAtMostBytes, `${request.bodyBytesSent} bytes sent`);
  }
  if (expect.messageAtMost !== undefined) assert.ok(seen.errorMessage.length <= expect.messageAtMost, `message of ${seen.errorMessage.length} characters`);
  if (expect.retries !== undefined) assert.equal(seen.retries, expect.retries, what);
  // Timing: the plan exactly, then the acts no sooner than planned and no later than
  // LATE_MS after (see fault-matrix.mjs). A timer may fire within a millisecond of its time.
  const within = (what, ms, low, high) => assert.ok(ms >= low - 1 && ms <= high, `${row.fault}: ${what} was ${ms?.toFixed(0)} ms, expected ${low} to ${high}`);
  if (expect.delaysMs) assert.deepEqual(seen.delaysMs, expect.delaysMs, `${what}: the sleeps planned after failures`);
  for (const [i, planned] of (expect.gapsMs ?? []).entries()) {
    within(`gap ${i + 1} between polls`, seen.sentMs[i + 1] - seen.sentMs[i], planned, planned + LATE_MS);
  }
  if (expect.lastPollAtMs !== undefined) {
    // Planned on the client's clock, which starts a moment after ours: a few ms of rounding.
    within("the last poll, as planned", seen.lastPlannedAtMs, expect.lastPollAtMs - 5, expect.lastPollAtMs + 5);
    within("the last poll, as sent", seen.sentMs.at(-1), expect.lastPollAtMs, expect.lastPollAtMs + LATE_MS);
  }
  if (expect.settledMs) within("settling", seen.settledMs, ...expect.settledMs);
}

/**
 * The rows that take the server away, abort, or crowd the client, written once against
 * `run(baseUrl, spec)`, which watches in Node or in the page.
 */
function scenarios(run, crowd, getServer) {
  test("a server not up yet when polling starts, up 2 s later: rides through and completes", async () => {
    const port = await freePort();
    const watching = run(`http://127.0.0.1:${port}`, { options: PLAIN });
    await sleep(2_000); // the server is down for this long: what the test is about
    const late = await startFaultServer({ port });
    const upAt = performance.now();
    try {
      late.script([answer("completed")]);
      const seen = await watching;
      assert.equal(seen.result, "completed", JSON.stringify(seen));
      assert.ok(seen.retries >= 4, `retried while it was down: ${seen.retries}`);
      assert.equal(late.requests.length, 1, "one request once it is up");
      // Its gaps are 400 ms at most by then (its plan), so the next poll comes within one.
      assert.ok(Math.max(...seen.delaysMs) <= 400, `planned gaps ${seen.delaysMs}`);
      const firstPollAfterMs = late.requests[0].at - upAt;
      assert.ok(firstPollAfterMs <= 400 + LATE_MS, `first poll ${firstPollAfterMs.toFixed(0)} ms after it came up`);
    } finally {
      await late.stop();
    }
  });

  test("a server that restarts in the middle of a job: rides through and completes", async () => {
    const first = await startFaultServer();
    first.script([answer("pending")]);
    const watching = run(first.url, { options: PLAIN });
    // Polls at 0, 100 and 300 ms, then every 400 ms: stop once the third has come.
    await until(() => first.requests.length >= 3, { what: "three polls" });
    await first.stop();
    await sleep(1_000); // the server is down for this long: what the test is about
    const second = await startFaultServer({ port: first.port });
    try {
      second.script([answer("pending"), answer("completed")]);
      const seen = await watching;
      assert.equal(seen.result, "completed", JSON.stringify(seen));
      assert.ok(seen.retries >= 1, "the restart was seen as failed polls");
      assert.equal(second.requests.length, 2);
    } finally {
      await second.stop();
    }
  });

  test("abort while sleeping: AbortError at once, and no request after it", async () => {
    const server = getServer();
    server.script([answer("pending")]);
    // Aborted as soon as the first answer is handled, so during a 5 s sleep.
    const options = { ...PLAIN, initialDelayMs: 5_000, maxDelayMs: 5_000 };
    const seen = await run(server.url, { options, abortAfterUpdates: 1 });
    assert.equal(seen.errorName, "AbortError");
    // At once: a client that noticed only when its sleep ended would take 5 s; half that
    // fails it, and no slow moment of a busy machine.
    const afterAbortMs = seen.settledMs - seen.abortedMs;
    assert.ok(afterAbortMs >= 0 && afterAbortMs < 2_500, `settled ${afterAbortMs.toFixed(0)} ms after the abort`);
    assert.equal(server.requests.length, 1, "the one poll before the abort");
    await sleep(5_500); // past when the next poll was due: what the test is about
    assert.equal(server.requests.length, 1, "no request after the abort");
  });

  test("abort while a request is in flight: AbortError at once, and no request after it", async () => {
    const server = getServer();
    server.script([{ hang: true }]);
    const seen = await run(server.url, { options: PLAIN, abortAfterMs: 200 });
    assert.equal(seen.errorName, "AbortError");
    // At once: not when the request would time out (30 s by default; half that fails it).
    const afterAbortMs = seen.settledMs - seen.abortedMs;
    assert.ok(seen.abortedMs >= 199 && afterAbortMs < 15_000, `aborted at ${seen.abortedMs?.toFixed(0)} ms, settled ${afterAbortMs.toFixed(0)} ms later`);
    await sleep(600); // past a retry's first gap (100 ms), had the client gone on: what the test is about
    assert.equal(server.requests.length, 1, "no request after the abort");
  });

  test("100 watches of 100 jobs at once all settle, leaving no timer or abort listener behind", async () => {
    const server = getServer();
    // 250 pending answers spread over the watchers, then completed for all.
    server.script([...Array(250).fill(answer("pending")), answer("completed")]);
    const crowded = await crowd(server.url, 100);
    assert.equal(crowded.completed, 100);
    assert.ok(server.requests.length >= 350, `${server.requests.length} requests`);
    assert.equal(crowded.abortListenersLeft, 0, "every abort listener removed");
    assert.equal(crowded.timersLeft, 0, "every timer cleared");
  });
}

describe("fault matrix, in Node", () => {
  let VideoTranslationClient;
  let server;
  before(async () => {
    ({ VideoTranslationClient } = await loadClient());
    server = await startFaultServer();
  });
  after(() => server?.stop());

  for (const row of ROWS) {
    test(`${row.fault}: ${row.expect.result ?? row.expect.error}`, async () => {
      server.script(row.steps);
      const seen = await watch(VideoTranslationClient, server.url, row);
      check(row, seen, server.requests);
    });
  }

  scenarios(
    (baseUrl, spec) => watch(VideoTranslationClient, baseUrl, spec),
    async (baseUrl, count) => {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
      const timersBefore = timers();
      const controller = new AbortController();
      const clients = Array.from({ length: count }, () => new VideoTranslationClient(baseUrl, PLAIN));
      const outcomes = await Promise.all(clients.map((client, i) => client.waitForCompletion(`job-${i}`, { signal: controller.signal })));
      for (const client of clients) client.free();
      await sleep(50);
      return {
        completed: outcomes.filter((outcome) => outcome.result === "completed").length,
        abortListenersLeft: getEventListeners(controller.signal, "abort").length,
        timersLeft: timers() - timersBefore,
      };
    },
    () => server,
  );
});

describe("fault matrix, in Chromium", () => {
  let pages; // serves the page, the package and the matrix module
  let target; // misbehaves, across origins like a real API host
  let context;
  let page;
  before(async () => {
    pages = await startFaultServer();
    target = await startFaultServer();
    context = await launchChromium();
    page = await context.newPage();
    // Counts the page's live timers and abort listeners, to prove none are left behind.
    await page.addInitScript(() => {
      const live = new Set();
      const { setTimeout: set, clearTimeout: clear } = window;
      window.setTimeout = (callback, ms, ...args) => {
        const id = set(() => {
          live.delete(id);
          callback(...args);
        }, ms);
        live.add(id);
        return id;
      };
      window.clearTimeout = (id) => {
        live.delete(id);
        clear(id);
      };
      const listeners = new Map();
      const { addEventListener: add, removeEventListener: remove } = AbortSignal.prototype;
      AbortSignal.prototype.addEventListener = function (type, listener, options) {
        if (type === "abort") listeners.set(this, (listeners.get(this) ?? new Set()).add(listener));
        return add.call(this, type, listener, options);
      };
      AbortSignal.prototype.removeEventListener = function (type, listener, options) {
        if (type === "abort") listeners.get(this)?.delete(listener);
        return remove.call(this, type, listener, options);
      };
      window.liveTimers = () => live.size;
      window.abortListeners = (signal) => listeners.get(signal)?.size ?? 0;
    });
    await page.goto(pages.url);
    await page.evaluate(async () => {
      const client = await import("/pkg/video_translation_client.js");
      await client.default();
      const matrix = await import("/tests/fault-matrix.mjs");
      window.runRow = (index, baseUrl) => matrix.watch(client.VideoTranslationClient, baseUrl, matrix.ROWS[index]);
      window.runSpec = (baseUrl, spec) => matrix.watch(client.VideoTranslationClient, baseUrl, spec);
      window.crowd = async (baseUrl, count) => {
        const timersBefore = window.liveTimers();
        const controller = new AbortController();
        const clients = Array.from({ length: count }, () => new client.VideoTranslationClient(baseUrl, matrix.PLAIN));
        const outcomes = await Promise.all(clients.map((c, i) => c.waitForCompletion(`job-${i}`, { signal: controller.signal })));
        for (const c of clients) c.free();
        await new Promise((resolve) => setTimeout(resolve, 50));
        return {
          completed: outcomes.filter((outcome) => outcome.result === "completed").length,
          abortListenersLeft: window.abortListeners(controller.signal),
          timersLeft: window.liveTimers() - timersBefore,
        };
      };
    });
  });
  after(async () => {
    await context?.close();
    await pages?.stop();
    await target?.stop();
  });

  for (const [index, row] of ROWS.entries()) {
    test(`${row.fault}: ${row.expect.result ?? row.expect.error}`, async () => {
      target.script(row.steps);
      const seen = await page.evaluate(([i, url]) => window.runRow(i, url), [index, target.url]);
      check(row, seen, target.requests);
    });
  }

  scenarios(
    (baseUrl, spec) => page.evaluate(([url, s]) => window.runSpec(url, s), [baseUrl, spec]),
    (baseUrl, count) => page.evaluate(([url, n]) => window.crowd(url, n), [baseUrl, count]),
    () => target,
  );
});
