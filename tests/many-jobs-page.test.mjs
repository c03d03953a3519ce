// Issue 10 in a real browser: one page watches 50 jobs through ONE client while it goes on
// using the API as an app does (tests/many-jobs-page.mjs). The client must keep the browser's
// few connections per origin free for the app (one held request at most, counted on the
// server), learn of every end through that held request, and leave the app's own requests
// answered meanwhile. What each part took (round trips, lateness, the server's hand-over
// moments) is bench/pages.mjs's to print: here, what happened, whatever the machine's load.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./helpers.mjs";
import { assertHandOversOnly, heldTimeline } from "./held-requests.mjs";
import { runManyJobs, startManyJobsPage } from "./many-jobs-page.mjs";

let served;
let context;

before(async () => {
  served = await startManyJobsPage();
  context = await launchChromium();
});

after(async () => {
  await context?.close();
  await served?.stop();
});

test("one page watches 50 jobs through one client: one held request, every end through it, the app answered meanwhile", { timeout: 90_000 }, async () => {
  const run = await runManyJobs(context, served.server);
  assert.deepEqual(run.errors, []);

  for (const job of run.jobs) {
    assert.equal(job.outcome?.result, "completed", `job ${job.id}`);
    // Not seen before it ended: the server started it within its creation round trip, so
    // its end lies at most half that round trip before the midpoint's estimate.
    const late = job.seenAt - job.trueEnd;
    assert.ok(late >= -job.creationRttMs / 2 - 2, `job ${job.id} (${job.durationMs} ms) was seen ${(-late).toFixed(1)} ms before it ended`);
    // Seen through the held request: whatever the client planned for it before its end was a
    // held watch (which the server answers at the job's end) or the next event of its stream
    // (next "at once", no wait), never a poll after a sleep.
    const planned = job.updates.slice(0, -1);
    const held = (update) => update.nextPollWaitMs > 0 || (update.nextPollInMs === 0 && update.nextPollWaitMs === null);
    assert.ok(planned.length > 0 && planned.every(held), `job ${job.id}: ${JSON.stringify(job.updates)}`);
  }

  // The app's own requests were all answered, and answered while the client held its watch:
  // the held request left the browser's connections to the app.
  assert.ok(run.app.length >= 40, `the app made ${run.app.length} requests`);
  for (const request of run.app) assert.ok(request.status < 300, `an app ${request.kind} answered ${request.status}`);
  const whileHeld = (kind) => run.app.filter((r) => r.kind === kind && r.heldWhenSent === 1 && r.heldWhenAnswered === 1).length;
  assert.ok(whileHeld("create") > 0 && whileHeld("read") > 0, `answered while the watch was held: ${whileHeld("create")} creates, ${whileHeld("read")} reads`);

  // What the client believes: never more than one held.
  assert.ok(Math.max(...run.held) <= 1, `client.heldRequests reached ${Math.max(...run.held)}`);
  assert.equal(run.finalHeld, 0);
  // What the server saw: one held at a time, but for the moment of each hand-over.
  assertHandOversOnly(heldTimeline(served.server.stderr()));
});
