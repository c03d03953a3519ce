// Runs the seeds' integration script as a user would and checks what it prints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { REPO } from "./helpers.mjs";

const run = promisify(execFile);

test("the integration script prints each update and ends with Final status: completed", async () => {
  const { stdout } = await run(process.execPath, [path.join(REPO, "tests", "integration.mjs")], {
    env: { ...process.env, INTEGRATION_DELAY: "2" },
    timeout: 30_000,
  });
  const lines = stdout.trim().split("\n");
  const updates = lines.filter((line) => line.startsWith("Status update:"));
  assert.ok(updates.length >= 2, `expected several updates for a 2 s job:\n${stdout}`);
  assert.match(updates[0], /^Status update: pending \(attempt 1,/);
  assert.match(updates.at(-1), /^Status update: completed /);
  assert.equal(lines.at(-1), "Final status: completed");
});
