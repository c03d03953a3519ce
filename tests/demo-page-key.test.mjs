// The demo page against a server that wants an API key (`--api-key`): it asks for the key,
// says so when a job is refused for the lack of one or for a wrong one, watches jobs with
// it, and keeps it for the tab's session only (sessionStorage, not localStorage). Each state
// is checked as shown, at a phone's width and a desktop's (tests/page-shown.mjs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launchChromium, REPO, startServer } from "./helpers.mjs";
import { assertLaidOut as assertLaidOutIn, shownText } from "./page-shown.mjs";

let server;
let context;
let page;

before(async () => {
  server = await startServer(["--api-key", "demo-key", "--delay", "30"]);
  context = await launchChromium();
  page = await context.newPage();
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 });
});
after(async () => {
  await context?.close();
  await server?.stop();
});

/** Asserts that the page as it is now lays out well at a phone's width and a desktop's. */
const assertLaidOut = (state) => assertLaidOutIn(page, state);

async function start() {
  await page.fill("input[name=duration]", "1");
  await page.fill("input[name=count]", "1");
  await page.click("#start");
}

test("it asks for the key, and a missing or wrong key is explained", async () => {
  assert.match(await page.evaluate(shownText, "#key-field"), /^API key/, "the key field shows");
  await assertLaidOut("the key asked for");
  await start();
  await page.waitForSelector("#form-error:not([hidden])");
  assert.match(await page.evaluate(shownText, "#form-error"), /HTTP 401.*Check the API key\.$/);
  await assertLaidOut("a missing key explained");
  await page.fill("input[name=apiKey]", "not-the-key");
  await start();
  await page.locator("#form-error", { hasText: "not one this server accepts" }).waitFor();
  assert.match(await page.evaluate(shownText, "#form-error"), /HTTP 401.*Check the API key\.$/);
  assert.equal(await page.locator(".job").count(), 0, "no job started");
});

test("with the key, jobs are watched to the end; the key lives in the session only", async () => {
  await page.fill("input[name=apiKey]", "demo-key");
  const before = await page.locator(".job").count();
  await start();
  await page.waitForFunction((n) => document.querySelectorAll(".job").length > n, before);
  await page.locator(".job").first().locator("[data-role=status]", { hasText: "completed" }).waitFor({ timeout: 15_000 });
  const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  assert.deepEqual(stored, { session: 1, local: 0 });
  await page.screenshot({ path: path.join(REPO, "tests", ".artifacts", "8-api-key.png") });
  // A reload in the same tab keeps it.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.inputValue("input[name=apiKey]"), "demo-key");
});
