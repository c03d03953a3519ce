// The client's fault matrix as data, and the one function that runs a row. Imported by the
// Node suite and, unchanged, by a page in Chromium (so no Node APIs here).
//
// A row: the steps the fault server takes (see fault-server.mjs), the client's options,
// and what must happen. Rows that need the server itself to go away (not up yet, restart)
// or an abort are driven by the suites around `watch`.

/** Plain backoff, no hints, no jitter: 100 ms, 200 ms, then 400 ms gaps. */
export const PLAIN = Object.freeze({ adaptive: false, initialDelayMs: 100, maxDelayMs: 400, backoffFactor: 2, jitter: 0 });

/**
 * How much later than planned a poll or a settling may come and still pass. Timing is
 * checked in two parts: what the client planned (the delays it reports, exact, as jitter is
 * 0) and when it acted, measured where it acts (its `fetch` calls). Acting can never come
 * before the plan, so lower bounds are exact; it can come late on a busy machine (on these
 * 2 shared cores, at a load average of 7, timers fired 500 to 700 ms late), so the upper
 * bounds are a safety net, seven times that: they catch only a client late by seconds of its
 * own doing (cut by `requestTimeoutMs`, 30 s by default, instead of the deadline, say), never
 * a slow moment. The plan is what pins the schedule down.
 */
export const LATE_MS = 5_000;

const status = (result) => ({ status: 200, json: { id: "job", result, progress: null, eta_ms: null } });
const error = (code) => ({ status: code, json: { error: { code: "denied", message: `answered ${code}` } } });

export const ROWS = [
  {
    fault: "500 / 502 / 503 a few times",
    steps: [{ status: 500, body: "oops" }, { status: 502, body: "bad gateway" }, { status: 503 }, status("completed")],
    options: PLAIN,
    expect: { result: "completed", requests: 4, retries: 3, delaysMs: [100, 200, 400], gapsMs: [100, 200, 400] },
  },
  {
    fault: "503 with Retry-After: 1",
    steps: [{ status: 503, headers: { "retry-after": "1" } }, status("completed")],
    options: { ...PLAIN, maxDelayMs: 5_000 },
    expect: { result: "completed", requests: 2, delaysMs: [1_000], gapsMs: [1_000] },
  },
  {
    fault: "429 with Retry-After: 1",
    steps: [{ status: 429, headers: { "retry-after": "1" } }, status("completed")],
    options: { ...PLAIN, maxDelayMs: 5_000 },
    expect: { result: "completed", requests: 2, delaysMs: [1_000], gapsMs: [1_000] },
  },
  {
    fault: "a huge Retry-After",
    steps: [{ status: 503, headers: { "retry-after": "99999999999" } }, status("completed")],
    options: PLAIN,
    // Honoured up to maxDelayMs (400 ms): ignoring it would poll again after 100 ms.
    expect: { result: "completed", requests: 2, delaysMs: [400], gapsMs: [400] },
  },
  {
    fault: "malformed Retry-After values",
    steps: [
      { status: 503, headers: { "retry-after": "soon" } },
      { status: 503, headers: { "retry-after": "-5" } },
      { status: 429, headers: { "retry-after": "Wed, 21 Oct 2099 07:28:00 GMT" } },
      status("completed"),
    ],
    options: PLAIN,
    expect: { result: "completed", requests: 4, delaysMs: [100, 200, 400], gapsMs: [100, 200, 400] },
  },
  {
    fault: "a Retry-After past maxWaitMs",
    steps: [{ status: 503, headers: { "retry-after": "3600" } }],
    options: { ...PLAIN, maxDelayMs: 600_000, maxWaitMs: 1_000 },
    // The last poll is made at the deadline itself, measured from the wait's start (not from
    // the first poll, which a busy machine may send tens of milliseconds after it).
    expect: { error: "TimeoutError", requests: 2, lastPollAtMs: 1_000, settledMs: [1_000, 1_100 + LATE_MS] },
  },
  {
    fault: "a response that never comes",
    steps: [{ hang: true }, status("completed")],
    options: { ...PLAIN, requestTimeoutMs: 300 },
    // Cut at 300 ms, then the first backoff gap.
    expect: { result: "completed", requests: 2, retries: 1, delaysMs: [100], gapsMs: [400] },
  },
  {
    // Chromium itself resends a GET whose reused connection was dropped, so there the client
    // may never see this failure; either way two requests reach the server.
    fault: "a dropped connection",
    steps: [{ reset: true }, status("completed")],
    options: PLAIN,
    expect: { result: "completed", requests: 2 },
  },
  {
    fault: "a body that is not JSON, once",
    steps: [{ status: 200, body: "<html>maintenance</html>" }, status("completed")],
    options: PLAIN,
    expect: { result: "completed", requests: 2, retries: 1 },
  },
  {
    fault: "a body that is not JSON, every time",
    steps: [{ status: 200, body: "<html>maintenance</html>" }],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 2, message: /not JSON/ },
  },
  {
    fault: "JSON that is not the contract, once",
    steps: [{ status: 200, json: { state: "done" } }, status("completed")],
    options: PLAIN,
    expect: { result: "completed", requests: 2, retries: 1 },
  },
  {
    fault: "JSON that is not the contract, every time",
    steps: [{ status: 200, json: [1, 2, 3] }],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 2, message: /not a job status/ },
  },
  {
    fault: "an unknown result value",
    steps: [status("finished")],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 1, message: /"finished"/ },
  },
  ...[404, 400, 401, 403].map((code) => ({
    fault: `${code}`,
    steps: [error(code)],
    options: PLAIN,
    expect: { error: "HttpError", status: code, code: "denied", requests: 1 },
  })),
  {
    fault: "a status answer of 50 MB",
    steps: [{ status: 200, bodyBytes: 50 * 1024 * 1024 }],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 2, message: /larger than 1048576 bytes/, readAtMostBytes: 16 * 1024 * 1024 },
  },
  {
    fault: "a body that never ends",
    steps: [{ status: 200, endless: true }],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 2, message: /larger than/, readAtMostBytes: 16 * 1024 * 1024 },
  },
  {
    fault: "an error whose message is 200,000 characters",
    steps: [{ status: 404, json: { error: { code: "denied", message: "x".repeat(200_000) } } }],
    options: PLAIN,
    expect: { error: "HttpError", status: 404, code: "denied", requests: 1, messageAtMost: 400 },
  },
  {
    fault: "an answer about another job",
    steps: [{ status: 200, json: { id: "another-job", result: "completed", progress: 1, eta_ms: 0 } }],
    options: PLAIN,
    expect: { error: "ProtocolError", requests: 1, message: /about job another-job/ },
  },
  {
    fault: "a redirect to another job",
    // Twice: a browser asks the first URL again to follow the redirect itself.
    steps: [{ status: 307, headers: { location: "/jobs/other" } }, { status: 307, headers: { location: "/jobs/other" } }, status("completed")],
    options: PLAIN,
    // Node and Chromium follow it, and find another job's status.
    expect: { error: "ProtocolError", requestsAtMost: 3, message: /about job other/ },
  },
  {
    fault: "a redirect loop",
    steps: [{ status: 307, headers: { location: "/jobs/job" } }],
    options: PLAIN,
    // Node follows the loop 3 times and stops; Chromium, which hides where a redirect goes,
    // follows it itself up to its own limit (20), once: one attempt, not a storm of retries.
    expect: { error: "ProtocolError", requestsAtMost: 23, message: /redirect/ },
  },
  {
    fault: "the last request at the deadline hangs",
    steps: [status("pending"), { hang: true }],
    options: { ...PLAIN, maxWaitMs: 1_000, requestTimeoutMs: 30_000 },
    // Settles by maxWaitMs + the client's 100 ms margin, not by requestTimeoutMs (30 s).
    expect: { error: "TimeoutError", settledMs: [1_000, 1_100 + LATE_MS] },
  },
  {
    fault: "maxWaitMs reached",
    steps: [status("pending")],
    options: { ...PLAIN, maxWaitMs: 1_000 },
    // Polls at 0, 100, 300 and 700 ms; the next gap (400 ms) would pass the deadline, so the
    // last poll is made at the deadline itself.
    expect: { error: "TimeoutError", lastPollAtMs: 1_000, settledMs: [1_000, 1_100 + LATE_MS] },
  },
];

/**
 * Watches `jobId` with a fresh client and reports what happened, never throwing:
 * `{ result | errorName, errorMessage, errorStatus, errorCode, attempts, settledMs, updates,
 *    retries, sentMs, delaysMs, lastPlannedAtMs, abortedMs }`. Times are in ms since the wait
 * began: `sentMs`, when the client called `fetch` for the job (it is handed a `fetch` that
 * notes the time; watches are left out, as the fault server refuses them); `delaysMs`, the
 * sleeps it planned after each failure (`onRetry`); `lastPlannedAtMs`, when it planned its
 * last poll (an update's or retry's `elapsedMs + nextPollInMs`); `abortedMs`, when the signal
 * fired. `abortAfterMs` aborts the wait after that long; `abortAfterUpdates: n` aborts it as
 * soon as the n-th update is handled (on a 0 ms timer, so while the client sleeps).
 */
export async function watch(VideoTranslationClient, baseUrl, { options, jobId = "job", abortAfterMs, abortAfterUpdates }) {
  const sentMs = [];
  const since = () => performance.now() - started;
  const notingFetch = (input, init) => {
    if (!new URL(String(input?.url ?? input)).pathname.endsWith("/jobs/watch")) sentMs.push(since());
    return fetch(input, init);
  };
  const client = new VideoTranslationClient(baseUrl, { ...options, fetch: notingFetch });
  const controller = new AbortController();
  let abortedMs = null;
  const abort = () => {
    abortedMs = since();
    controller.abort(new Error("user left"));
  };
  const timer = abortAfterMs === undefined ? undefined : setTimeout(abort, abortAfterMs);
  const updates = [];
  const retries = [];
  let lastPlannedAtMs = null;
  const plan = ({ elapsedMs, nextPollInMs }) => {
    if (nextPollInMs !== null) lastPlannedAtMs = elapsedMs + nextPollInMs;
  };
  const started = performance.now();
  const report = (fields) => ({
    ...fields,
    settledMs: since(),
    updates: updates.length,
    retries: retries.length,
    sentMs,
    delaysMs: retries.map((retry) => retry.nextPollInMs),
    lastPlannedAtMs,
    abortedMs,
  });
  try {
    const outcome = await client.waitForCompletion(jobId, {
      signal: controller.signal,
      onUpdate: (update) => {
        updates.push(update);
        plan(update);
        if (updates.length === abortAfterUpdates) setTimeout(abort, 0);
      },
      onRetry: (retry) => {
        retries.push(retry);
        plan(retry);
      },
    });
    return report({ result: outcome.result, attempts: outcome.attempts });
  } catch (error) {
    return report({ errorName: error.name, errorMessage: error.message, errorStatus: error.status ?? null, errorCode: error.code ?? null, attempts: error.attempts ?? null });
  } finally {
    clearTimeout(timer);
    client.free();
  }
}
