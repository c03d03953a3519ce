// A page that goes offline, or is hidden, while it watches a job (Playwright's context.setOffline, which
// sets navigator.onLine and fires `offline` and `online`): no attempt is spent while offline,
// and the end is seen as soon as the page is back. "As soon as" is checked against what the
// client would do without the wake-up (offline: never look again; hidden: sleep 20 s): half
// of that, so only a missing wake-up fails, never a busy machine.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, startServer } from "./helpers.mjs";

let server;
let context;
let page;

before(async () => {
  server = await startServer();
  context = await launchChromium();
  page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => document.body.dataset.ready === "true");
});
after(async () => {
  await context?.close();
  await server?.stop();
});

/**
 * Takes the page offline for `ms` (its job ends meanwhile), counting the requests `counts`
 * picks while it is; returns that count and the page's clock as it comes back.
 */
async function offlineSpell(ms, counts) {
  let sent = 0;
  const onRequest = (request) => counts(request) && (sent += 1);
  await context.setOffline(true);
  page.on("request", onRequest);
  await page.waitForTimeout(ms);
  page.off("request", onRequest);
  const onlineAt = await page.evaluate(() => performance.now());
  await context.setOffline(false);
  return { sentOffline: sent, onlineAt };
}

test("offline, at most one request; back online, the end is seen at once", async () => {
  // Plain backoff with gaps of 200 to 400 ms: offline for 4 s, it would make about ten.
  const started = await page.evaluate(async () => {
    const { VideoTranslationClient } = await import("/pkg/video_translation_client.js");
    const client = new VideoTranslationClient(location.origin, { adaptive: false, initialDelayMs: 200, maxDelayMs: 400, jitter: 0 });
    const job = await client.createJob({ durationMs: 2500 });
    window.watching = client.waitForCompletion(job.id).then((outcome) => ({ outcome, at: performance.now() }));
    return { id: job.id, at: performance.now() };
  });
  await page.waitForTimeout(500);
  // The job ends 2.5 s after its start, while offline.
  const { sentOffline, onlineAt } = await offlineSpell(4_000, (request) => request.url().includes("/jobs/"));

  const { outcome, at } = await page.evaluate(() => window.watching);
  assert.equal(outcome.result, "completed");
  assert.ok(sentOffline <= 1, `${sentOffline} requests while offline`);
  // Offline, the client takes no turn until `online` wakes it: without that, never.
  assert.ok(at - onlineAt <= 10_000, `the end was seen ${Math.round(at - onlineAt)} ms after coming back`);
  assert.ok(at - started.at >= 2_500, "not before the job ended");
});

test("a streamed wait across an offline spell: no stream opened while offline, the end seen", async () => {
  // The default client streams. Whatever going offline does to the open stream (Chromium's
  // emulation keeps it, and its end comes while offline; a network change closes it), no new
  // one may be opened while offline, and coming back must not wait for the stream's silence
  // limit (two 15 s heartbeats) to notice: half of that is the bound.
  const asksForStream = (request) =>
    new URL(request.url()).pathname === "/jobs/watch" && request.headers().accept?.startsWith("text/event-stream");
  let streamsOpened = 0;
  const countStreams = (request) => asksForStream(request) && (streamsOpened += 1);
  page.on("request", countStreams);
  const started = await page.evaluate(async () => {
    const { VideoTranslationClient } = await import("/pkg/video_translation_client.js");
    const client = new VideoTranslationClient(location.origin);
    const at = performance.now(); // before the job starts: a streamed end comes at its moment
    const job = await client.createJob({ durationMs: 2500 });
    window.streamedStatuses = [];
    window.watching = client
      .waitForCompletion(job.id, { onUpdate: (status) => window.streamedStatuses.push(status.result) })
      .then((outcome) => ({ outcome, at: performance.now() }));
    return { id: job.id, at };
  });
  await page.waitForFunction(() => window.streamedStatuses.length > 0); // the wait's first status came
  page.off("request", countStreams);
  assert.ok(streamsOpened >= 1, "the wait streams before the page goes offline");
  // The job ends 2.5 s after its start, while offline.
  const { sentOffline: streamsOpenedOffline, onlineAt } = await offlineSpell(4_000, asksForStream);

  const { outcome, at } = await page.evaluate(() => window.watching);
  assert.equal(outcome.result, "completed");
  assert.equal(streamsOpenedOffline, 0, "no stream opened while offline");
  assert.ok(at - onlineAt <= 15_000, `the end was seen ${Math.round(at - onlineAt)} ms after coming back`);
  assert.ok(at - started.at >= 2_500, "not before the job ended");
});

test("a page that becomes visible during a long sleep looks at once", async () => {
  // A first gap of 20 s: without the look on becoming visible, the end would wait for it.
  const started = await page.evaluate(async () => {
    const { VideoTranslationClient } = await import("/pkg/video_translation_client.js");
    const client = new VideoTranslationClient(location.origin, { adaptive: false, initialDelayMs: 20_000, maxDelayMs: 20_000, jitter: 0 });
    const job = await client.createJob({ durationMs: 1000 });
    window.watching = client.waitForCompletion(job.id).then((outcome) => ({ outcome, at: performance.now() }));
    return performance.now();
  });
  await page.waitForTimeout(1_500);
  // The tab comes back to the front (headless Chromium has no tabs to switch: told by hand).
  const shownAt = await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    return performance.now();
  });
  const { outcome, at } = await page.evaluate(() => window.watching);
  assert.equal(outcome.result, "completed");
  // Half the 20 s sleep the client would otherwise have finished first.
  assert.ok(at - started < 10_000, `seen ${Math.round(at - started)} ms after the start (${Math.round(at - shownAt)} ms after it was shown)`);
});
