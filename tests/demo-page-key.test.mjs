// The demo page against a server that wants an API key (`--api-key`): it asks for the key,
// says so when a job is refused for the lack of one, watches jobs with it, and keeps it for
// the tab's session only (sessionStorage, not localStorage).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launchChromium, REPO, startServer } from "./helpers.mjs";

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

async function start() {
  await page.fill("input[name=duration]", "1");
  await page.fill("input[name=count]", "1");
  await page.click("#start");
}

test("it asks for the key, and a missing key is explained", async () => {
  assert.equal(await page.isVisible("#key-field"), true, "the key field shows");
  await start();
  await page.waitForSelector("#form-error:not([hidden])");
  assert.match(await page.textContent("#form-error"), /HTTP 401.*Check the API key/);
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
