// The demo page's main path in headless Firefox (Debian's firefox-esr, driven through
// WebDriver by selenium-webdriver and geckodriver, both installed by
// `scripts/install-tools.sh --browser`): a job that completes, one that fails, a cancel with
// no request after it, and many jobs at once; and in each state, what the page shows at a
// phone's width and a desktop's (tests/page-shown.mjs). Chromium runs the same page in
// demo-page.test.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { REPO, startServer, until } from "./helpers.mjs";
import { LAYOUT_PROBLEMS, SHOWN_TEXT, VIEWPORTS } from "./page-shown.mjs";

const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/** Where geckodriver is: on PATH (cargo install puts it in ~/.cargo/bin). */
function geckodriver() {
  for (const dir of [...(process.env.PATH ?? "").split(":"), path.join(os.homedir(), ".cargo", "bin")]) {
    const file = path.join(dir, "geckodriver");
    if (fs.existsSync(file)) return file;
  }
  throw new Error("no geckodriver on PATH: run scripts/install-tools.sh --browser");
}

/**
 * Headless Firefox with a fresh profile that sends nothing but to loopback: every other
 * address goes to a proxy at 127.0.0.1:9, where nothing listens (loopback itself bypasses
 * proxies), and the background services that would call out are off. The preferences are
 * tests/fixtures/firefox-webdriver.json's, which `make test-wasm` hands wasm-pack's Firefox too.
 */
async function launchFirefox() {
  const { Builder } = await import("selenium-webdriver");
  const firefox = await import("selenium-webdriver/firefox.js");
  assert.ok(fs.existsSync(FIREFOX), `no Firefox at ${FIREFOX}: run scripts/install-tools.sh --browser`);
  // BiDi: to set a phone's viewport (headless Firefox keeps windows 500 px wide at least).
  const options = new firefox.Options().setBinary(FIREFOX).addArguments("-headless").windowSize({ width: 1000, height: 900 }).enableBidi();
  const capabilities = JSON.parse(fs.readFileSync(path.join(REPO, "tests", "fixtures", "firefox-webdriver.json"), "utf8"));
  for (const [name, value] of Object.entries(capabilities["moz:firefoxOptions"].prefs)) options.setPreference(name, value);
  const service = new firefox.ServiceBuilder(geckodriver());
  return new Builder().forBrowser("firefox").setFirefoxOptions(options).setFirefoxService(service).build();
}

/** Requests the server answered on the routes a watch uses: polls, long-polls, watches. */
async function statusRequests(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const [, route, count] of text.matchAll(/^vts_http_requests_total\{route="([^"]+)",[^}]*\} (\d+)$/gm)) {
    if (route === "/jobs/:id" || route === "/jobs/watch" || route === "/status") total += Number(count);
  }
  return total;
}

let server;
let driver;
const firefoxVersion = execFileSync(FIREFOX, ["--version"], { encoding: "utf8" }).trim();

before(async () => {
  server = await startServer(["--delay", "30"]);
  driver = await launchFirefox();
  await driver.manage().setTimeouts({ script: 20_000 });
  await driver.get(server.url);
  await until(() => driver.executeScript("return document.body.dataset.ready === 'true'"), { what: "the page ready", timeoutMs: 15_000, everyMs: 100 });
  // Firefox's WebDriver keeps no console log: the page's uncaught errors are collected here.
  await driver.executeScript(`window.uncaught = [];
    addEventListener("error", (event) => window.uncaught.push(String(event.message)));
    addEventListener("unhandledrejection", (event) => window.uncaught.push(String(event.reason)));`);
});
after(async () => {
  await driver?.quit();
  await server?.stop();
});

/** Runs `script` (a function's body) in the page and returns its value. */
const inPage = (script, ...args) => driver.executeScript(script, ...args);

/** Sets the page's viewport to `viewport`: `{ width, height }` in CSS pixels. */
async function setViewport(viewport) {
  const { default: BrowsingContext } = await import("selenium-webdriver/bidi/browsingContext.js");
  const context = await BrowsingContext(driver, { browsingContextId: await driver.getWindowHandle() });
  const answer = await context.bidi.send({ method: "browsingContext.setViewport", params: { context: context.id, viewport } });
  assert.equal(answer.error, undefined, JSON.stringify(answer));
}

/**
 * Asserts that the page as it is now lays out well at each of VIEWPORTS (nothing past the
 * edges, no text cut off), then gives it the size it had. (Firefox 153 never answers a
 * setViewport of null, the protocol's way to give the window's back.)
 */
async function assertLaidOut(state) {
  const original = await inPage("return { width: innerWidth, height: innerHeight }");
  try {
    for (const { name, width, height } of VIEWPORTS) {
      await setViewport({ width, height });
      assert.equal(await inPage("return innerWidth"), width, `the ${name}'s viewport was not set`);
      assert.deepEqual(await inPage(LAYOUT_PROBLEMS), [], `${state}, at a ${name}'s width`);
    }
  } finally {
    await setViewport(original);
  }
}

/** What a person reads of the element `selector` names, or null when it is not shown. */
const shownText = (selector) => inPage(SHOWN_TEXT, selector);

/** Fills the form and starts `count` jobs; resolves once their cards are there. */
async function start({ seconds, outcome, count = 1, spread = false }) {
  const before = await inPage("return document.querySelectorAll('.job').length");
  await inPage(
    `const [seconds, outcome, count, spread] = arguments;
     const form = document.getElementById("start-form");
     form.duration.value = seconds; form.outcome.value = outcome; form.count.value = count; form.spread.checked = spread;`,
    seconds, outcome, count, spread,
  );
  const { By } = await import("selenium-webdriver");
  await driver.findElement(By.id("start")).click();
  await until(async () => (await inPage("return document.querySelectorAll('.job').length")) >= before + count, {
    what: `${count} new cards`, timeoutMs: 15_000, everyMs: 50,
  });
}

/** The newest card's state and texts. */
const newestCard = () =>
  inPage(`const card = document.querySelector(".job");
    const text = (role) => card.querySelector("[data-role=" + role + "]").textContent;
    return { state: card.dataset.state, status: text("status"), progress: text("progress"), polls: Number(text("polls")),
      next: text("next"), log: text("log"), cancelDisabled: card.querySelector("[data-role=cancel]").disabled };`);

describe(`the demo page in ${firefoxVersion}`, () => {
  test("the empty page invites a first job and asks for no key the server does not want", async () => {
    assert.equal(await shownText("#no-jobs"), "No jobs yet: start one above.");
    assert.equal(await shownText("#start"), "Start");
    assert.equal(await shownText("#key-field"), null, "the server was started without --api-key");
    await assertLaidOut("the empty page");
  });

  test("a job started in the page reaches completed", async () => {
    await start({ seconds: 2, outcome: "completed" });
    const card = await until(async () => ((await newestCard()).state === "completed" ? newestCard() : null), {
      what: "the job completed", timeoutMs: 20_000, everyMs: 100,
    });
    assert.equal(card.status, "completed");
    assert.equal(card.progress, "100 %");
    assert.ok(card.polls >= 1, `polls: ${card.polls}`);
    assert.match(card.log, /completed after \d+ polls/);
    assert.equal(await shownText(".job [data-role=status]"), "completed");
    assert.equal(await shownText(".job [data-role=cancel]"), null, "an ended job offers no Cancel");
    await assertLaidOut("a job completed");
  });

  test("a job that fails shows error", async () => {
    await start({ seconds: 1, outcome: "error" });
    const card = await until(async () => ((await newestCard()).state === "error" ? newestCard() : null), {
      what: "the job failed", timeoutMs: 20_000, everyMs: 100,
    });
    assert.equal(card.status, "error");
    assert.equal(await shownText(".job [data-role=status]"), "error");
    await assertLaidOut("a job ended in error");
  });

  test("cancel stops the watch: the server sees no request after it", async () => {
    await start({ seconds: 6, outcome: "completed" });
    // Its first answer came (on a stream, or from a first look a long-poll follows).
    await until(async () => (await newestCard()).polls >= 1, { what: "a first answer", timeoutMs: 10_000, everyMs: 50 });
    assert.equal(await shownText(".job [data-role=status]"), "pending");
    assert.equal(await shownText(".job [data-role=cancel]"), "Cancel");
    await inPage(`document.querySelector(".job [data-role=cancel]").click();`);
    const card = await until(async () => ((await newestCard()).status.includes("cancelled") ? newestCard() : null), {
      what: "the card cancelled", timeoutMs: 5_000, everyMs: 50,
    });
    const requests = await statusRequests(server.url);
    // Time passing is what is tested: had the client gone on, its next request was due within
    // 1 s (a long-poll after the first look) or at once (a stream reopened); none may come.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(await statusRequests(server.url), requests, "a status request after cancel");
    assert.equal((await newestCard()).polls, card.polls, "the poll counter stopped");
    assert.equal(card.cancelDisabled, true);
    assert.equal(await shownText(".job [data-role=status]"), "cancelled");
    await assertLaidOut("a job cancelled");
  });

  test("fifty jobs started at once all complete, and the counters add up", { timeout: 60_000 }, async () => {
    const stat = (name) => inPage(`return document.querySelector('[data-stat="${name}"]').textContent.trim();`);
    const completedBefore = Number(await stat("completed"));
    await start({ seconds: 3, outcome: "completed", count: 50, spread: true });
    await assertLaidOut("fifty jobs running");
    await until(
      () => inPage("return [...document.querySelectorAll('.job')].slice(0, 50).every((card) => card.dataset.state === 'completed')"),
      { what: "50 jobs completed", timeoutMs: 30_000, everyMs: 200 },
    );
    // The panel catches up at its next redraw.
    await until(async () => Number(await stat("completed")) === completedBefore + 50 && (await stat("running")) === "0", {
      what: "the panel's counters", timeoutMs: 5_000, everyMs: 100,
    });
    assert.equal(await stat("held"), "0");
    assert.equal(await shownText("[data-stat=completed]"), String(completedBefore + 50), "the counter a person reads");
    await assertLaidOut("fifty jobs completed");
  });

  test("nothing threw uncaught in the page, and it showed no error", async () => {
    assert.deepEqual(await inPage("return window.uncaught"), []);
    assert.equal(await inPage("return document.getElementById('form-error').hidden"), true);
  });
});
