// The demo page as a person uses it, in headless Chromium (the system's, driven by
// playwright-core): what it does, and what it shows in each state, at a phone's width and a
// desktop's (tests/page-shown.mjs). Screenshots of each state go to tests/.artifacts/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launchChromium, REPO, startServer } from "./helpers.mjs";
import { assertLaidOut as assertLaidOutIn, newestCardShown, shownText } from "./page-shown.mjs";

const ARTIFACTS = path.join(REPO, "tests", ".artifacts");

let server;
let context;
let page;
const consoleErrors = [];

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer(["--delay", "30"]);
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
});

after(async () => {
  await context?.close();
  await server?.stop();
  console.log(`screenshots: ${ARTIFACTS}`);
});

/** Starts one job from the form and returns a locator for its card. */
async function startJob({ seconds, outcome }) {
  const before = await page.locator(".job").count();
  await page.fill("input[name=duration]", String(seconds));
  await page.selectOption("select[name=outcome]", outcome);
  await page.fill("input[name=count]", "1");
  await page.click("#start");
  await page.waitForFunction((n) => document.querySelectorAll(".job").length > n, before);
  return page.locator(".job").first();
}

const textOf = (card, role) => card.locator(`[data-role=${role}]`).textContent();

/** Asserts that the page as it is now lays out well at a phone's width and a desktop's. */
const assertLaidOut = (state) => assertLaidOutIn(page, state);

/** The newest card as a person reads it: its state, status and Cancel (null when not shown). */
const newestCardShows = () => page.evaluate(newestCardShown);

describe("the demo page", () => {
  test("the empty page invites a first job and asks for no key the server does not want", async () => {
    assert.equal(await page.evaluate(shownText, "#no-jobs"), "No jobs yet: start one above.");
    assert.equal(await page.evaluate(shownText, "#start"), "Start");
    assert.equal(await page.evaluate(shownText, "#key-field"), null, "the server was started without --api-key");
    assert.equal(await page.evaluate(shownText, "#stats"), null, "no counters before any job");
    await assertLaidOut("the empty page");
  });

  test("a job started in the browser reaches completed with a moving progress bar", async () => {
    const card = await startJob({ seconds: 4, outcome: "completed" });
    // The bar glides between polls: its drawn width grows while no new answer has come.
    await page.evaluate(() => {
      window.readBar = () => {
        const job = document.querySelector(".job");
        const width = job.querySelector(".bar-fill").getBoundingClientRect().width;
        return { width, polls: job.querySelector("[data-role=polls]").textContent, state: job.dataset.state };
      };
    });
    await page.waitForFunction(() => Number(document.querySelector(".job [data-role=polls]").textContent) >= 1);
    const early = await page.evaluate(() => window.readBar());
    // Until it grows, or an answer comes first (which fills the bar at once: not a glide).
    const later = await (
      await page.waitForFunction(
        (early) => {
          const now = window.readBar();
          return (now.width > early.width || now.polls !== early.polls || now.state !== "pending") && now;
        },
        early,
        { timeout: 20_000 },
      )
    ).jsonValue();
    assert.ok(
      later.width > early.width && later.polls === early.polls,
      `the progress bar should move between polls: ${JSON.stringify(early)} then ${JSON.stringify(later)}`,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, "1-running.png") });
    // It shows the state it is in, whichever that is by now (a 4 s job may have ended).
    const { state, status, cancel } = await newestCardShows();
    assert.equal(status, state);
    assert.equal(cancel, state === "pending" ? "Cancel" : null, `a ${state} job`);
    await assertLaidOut("a job running");

    await card.locator("[data-role=status]", { hasText: "completed" }).waitFor({ timeout: 20_000 });
    assert.equal(await card.getAttribute("data-state"), "completed");
    assert.equal(await textOf(card, "progress"), "100 %");
    assert.deepEqual(await newestCardShows(), { state: "completed", status: "completed", cancel: null }, "an ended job offers no Cancel");
    assert.equal(await page.evaluate(shownText, ".job [data-role=eta]"), "—", "no ETA once it ended");
    await assertLaidOut("a job completed");
    // One request on a server that streams (its end comes on the stream), two or more else.
    assert.ok(Number(await textOf(card, "polls")) >= 1);
    assert.match(await card.locator("[data-role=log]").textContent(), /completed after \d+ polls/);
    await page.screenshot({ path: path.join(ARTIFACTS, "2-completed.png") });
  });

  test("a job that fails shows error", async () => {
    const card = await startJob({ seconds: 1, outcome: "error" });
    await card.locator("[data-role=status]", { hasText: "error" }).waitFor({ timeout: 15_000 });
    assert.equal(await card.getAttribute("data-state"), "error");
    assert.deepEqual(await newestCardShows(), { state: "error", status: "error", cancel: null });
    await page.screenshot({ path: path.join(ARTIFACTS, "3-error.png") });
    await assertLaidOut("a job ended in error");
  });

  test("a job watched in adaptive mode says the server holds it, on a stream or a long-poll", async () => {
    // Held from its first gap (1 s at most) to its end: a 10 s job leaves 9 s to see it.
    const card = await startJob({ seconds: 10, outcome: "completed" });
    const held = card.locator("[data-role=next]", { hasText: /^(streamed by the server|held by the server \(≤ 30\.0 s\))$/ });
    await held.waitFor({ timeout: 9_000 });
    await card.locator("[data-role=status]", { hasText: "completed" }).waitFor({ timeout: 20_000 });
    // A stream: one request; a long-poll: one look and one long-poll. Never a poll in between.
    assert.ok(Number(await textOf(card, "polls")) <= 2, `polls: ${await textOf(card, "polls")}`);
    assert.match(await card.locator("[data-role=log]").textContent(), /on the stream|long-poll (now|in \d+\.\d s) \(held up to 30\.0 s\)/);
    assert.doesNotMatch(await card.locator("[data-role=log]").textContent(), /next poll in/);
  });

  test("cancel stops the watch and no further polls are made", async () => {
    // A 6 s job, cancelled once its first answer came (on a stream, or from a first look the
    // client follows with a long-poll): the page must send nothing more, which we watch on
    // the network.
    const card = await startJob({ seconds: 6, outcome: "completed" });
    await page.waitForFunction(() => Number(document.querySelector(".job [data-role=polls]").textContent) >= 1);
    const polledAfterCancel = [];
    // Any request about a job: a status poll, a long-poll or a watch (POST /jobs/watch).
    const onRequest = (request) => request.url().includes("/jobs/") && polledAfterCancel.push(request.url());
    page.on("request", onRequest);
    await card.locator("[data-role=cancel]").click();
    await card.locator("[data-role=status]", { hasText: "cancelled" }).waitFor({ timeout: 5_000 });
    const polls = await textOf(card, "polls");
    await page.waitForTimeout(6_500); // past the job's end, when the long-poll would have come back
    page.off("request", onRequest);
    assert.deepEqual(polledAfterCancel, [], "no request after cancel");
    assert.equal(await textOf(card, "polls"), polls, "the poll counter stopped");
    assert.equal(await card.locator("[data-role=cancel]").isDisabled(), true);
    assert.deepEqual(await newestCardShows(), { state: "cancelled", status: "cancelled", cancel: null });
    assert.equal(await page.evaluate(shownText, ".job [data-role=eta]"), "—", "no ETA for a job no longer watched");
    await page.screenshot({ path: path.join(ARTIFACTS, "4-cancelled.png") });
    await assertLaidOut("a job cancelled");
  });

  test("bad polling settings show a clear message instead of starting", async () => {
    // Each field is valid alone; the library knows the gap cap cannot be below the first gap.
    await page.click("summary");
    await page.fill("input[name=initialDelayMs]", "5000");
    await page.fill("input[name=maxDelayMs]", "100");
    const before = await page.locator(".job").count();
    await page.click("#start");
    await page.locator("#form-error", { hasText: "maxDelayMs" }).waitFor({ timeout: 5_000 });
    assert.equal(await page.locator(".job").count(), before, "no job is started");
    assert.match(await page.evaluate(shownText, "#form-error"), /maxDelayMs \(100 ms\) must be at least initialDelayMs/);
    await page.screenshot({ path: path.join(ARTIFACTS, "5-bad-settings.png") });
    await assertLaidOut("the settings open, with an error");
    await page.fill("input[name=initialDelayMs]", "");
    await page.fill("input[name=maxDelayMs]", "");
    assert.equal(await page.evaluate(shownText, "#form-error"), null, "no error about values no longer there");
  });

  test("a hundred jobs started at once share one watch: all complete, the counters add up, the page answers clicks", { timeout: 60_000 }, async () => {
    const stat = async (name) => (await page.locator(`[data-stat="${name}"]`).textContent()).trim();
    const isStatusRequest = (url) => /^\/(jobs\/|status)/.test(new URL(url).pathname);
    const sent = { status: 0, watches: 0 };
    const onRequest = (request) => {
      if (!request.url().startsWith(server.url) || !isStatusRequest(request.url())) return;
      sent.status += 1;
      if (new URL(request.url()).pathname === "/jobs/watch") sent.watches += 1;
    };
    const completedBefore = Number(await stat("completed"));
    const requestsBefore = Number(await stat("requests"));
    // Every redraw of the panel, from before the start to the end: what it says is running
    // and held, and how many cards are pending (the truth it should count) at that moment.
    await page.evaluate(() => {
      window.panelSamples = [];
      const panel = document.querySelector("#stats");
      const shown = (name) => Number(panel.querySelector(`[data-stat="${name}"]`).textContent);
      window.panelObserver = new MutationObserver(() =>
        window.panelSamples.push({
          running: shown("running"),
          held: shown("held"),
          pending: document.querySelectorAll(".job[data-state=pending]").length,
        }),
      );
      window.panelObserver.observe(panel, { subtree: true, childList: true, characterData: true });
    });
    page.on("request", onRequest);

    await page.fill("input[name=duration]", "4");
    await page.selectOption("select[name=outcome]", "completed");
    await page.fill("input[name=count]", "100");
    await page.check("input[name=spread]");
    const cards = await page.locator(".job").count();
    await page.click("#start");
    await page.waitForFunction((n) => document.querySelectorAll(".job").length >= n + 100, cards, { timeout: 15_000 });
    assert.equal(await page.locator("#jobs").getAttribute("class"), "jobs dense");

    // While they run, the page's own controls answer (the settings panel opens and closes on
    // a click). How quickly its main thread answers is bench/pages.mjs's figure.
    await page.screenshot({ path: path.join(ARTIFACTS, "6-hundred-running.png") });
    await assertLaidOut("a hundred jobs running");
    const settings = page.locator("#start-form details");
    const isOpen = () => settings.evaluate((details) => details.open);
    const wasOpen = await isOpen();
    await settings.locator("summary").click();
    assert.equal(await isOpen(), !wasOpen, "the settings panel toggles on a click");
    await settings.locator("summary").click();
    assert.equal(await isOpen(), wasOpen);

    // Spread 4 s × 0.5–1.5: the last ends within 6 s of its creation.
    await page.waitForFunction(
      (n) => [...document.querySelectorAll(".job")].slice(0, 100).every((card) => card.dataset.state === "completed") && document.querySelectorAll(".job").length === n + 100,
      cards,
      { timeout: 20_000, polling: 100 },
    );
    // The panel catches up at its next redraw (every 250 ms).
    await page.waitForFunction(
      (done) => ["running", "held", "completed"].map((name) => document.querySelector(`[data-stat="${name}"]`).textContent).join() === `0,0,${done}`,
      completedBefore + 100,
      { timeout: 5_000 },
    );
    page.off("request", onRequest);
    const samples = await page.evaluate(() => (window.panelObserver.disconnect(), window.panelSamples));
    await page.screenshot({ path: path.join(ARTIFACTS, "7-hundred-completed.png"), fullPage: true });
    await assertLaidOut("a hundred jobs completed");
    assert.equal(await page.evaluate(shownText, "[data-stat=completed]"), String(completedBefore + 100), "the counter a person reads");

    assert.equal(Number(await stat("completed")) - completedBefore, 100);
    assert.equal(await stat("running"), "0");
    assert.equal(await stat("held"), "0");
    const held = samples.map((sample) => sample.held);
    assert.ok(Math.max(...held) <= 1, `requests held: ${held.join(", ")}`);
    assert.ok(held.includes(1), `the watch was held while the jobs ran: ${held.join(", ")}`);
    // The running counter follows the cards: its peak is theirs (give or take a job that ended
    // between a redraw and the sample). How many ran at once depends on how fast they were
    // created (on an idle machine all 100, at a load average of 7, 79): the test needs several
    // at once, with one request held for them all (above).
    const peak = Math.max(...samples.map((sample) => sample.running));
    const pendingPeak = Math.max(...samples.map((sample) => sample.pending));
    assert.ok(Math.abs(peak - pendingPeak) <= 1, `the panel's peak was ${peak} running, the cards' ${pendingPeak}`);
    assert.ok(peak >= 2, `at most ${peak} jobs ran at once`);
    // The requests counter counts what the browser sent: every status request and watch
    // (resource timing leaves out the watches cancelled at a hand-over, never adds any).
    const counted = Number(await stat("requests")) - requestsBefore;
    assert.ok(counted <= sent.status && counted >= sent.status - sent.watches, `counter ${counted}, sent ${sent.status} (${sent.watches} watches)`);
    // What one watch costs here, jobs started one after another and ending apart: about
    // three requests per job (its first look, the hand-over when it joins the held watch, and
    // the answer at its end, each resent for the rest). Bounded there, so a spin, or plain
    // backoff per job (three to five polls each at these settings), fails. Per-job long-polls
    // would take two each: what the watch saves here is held connections, not requests.
    assert.ok(sent.status <= 300, `${sent.status} status requests for 100 jobs`);
    const perJob = Number(await stat("per-job"));
    assert.ok(perJob > 0 && perJob <= 3, `per job: ${perJob}`);
    console.log(`100 jobs in the demo page: ${sent.status} status requests (${sent.watches} watches), counter ${counted}, per job ${perJob}; held ${Math.max(...held)}; ${peak} running at once`);
  });

  test("the page logs no console errors", () => {
    assert.deepEqual(consoleErrors, []);
  });
});

// Last, as it takes the server away (and the browser logs the refused requests as errors).
describe("the demo page when its server goes away", () => {
  test("a running job says it is retrying, and a new start asks whether the server runs", async () => {
    const card = await startJob({ seconds: 30, outcome: "completed" });
    await page.waitForFunction(() => Number(document.querySelector(".job [data-role=polls]").textContent) >= 1);
    await server.stop();
    await card.locator("[data-role=status]", { hasText: "retrying" }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await newestCardShows(), { state: "pending", status: "retrying", cancel: "Cancel" });
    // The dense grid of many cards shows the badge alone; a card's facts say when it retries.
    assert.match(await textOf(card, "next"), /^retry in \d+\.\d s$/);
    await page.click("#start");
    await page.locator("#form-error", { hasText: "Is the server running?" }).waitFor({ timeout: 30_000 });
    assert.match(await page.evaluate(shownText, "#form-error"), /^Could not start a job — NetworkError: /);
    await page.screenshot({ path: path.join(ARTIFACTS, "9-server-gone.png") });
    await assertLaidOut("the server gone");
  });
});
