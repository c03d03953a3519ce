// Schemathesis (PyPI, pinned in scripts/install-tools.sh, in .venv) against the real server's
// GET /openapi.json: its default checks (no 5xx, every answer as the document says, valid
// requests accepted, invalid ones refused, auth enforced where declared) on a bounded number
// of examples, over a server without keys and one with --api-key.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO, run, startServer } from "./helpers.mjs";

const SCHEMATHESIS = path.join(REPO, ".venv", "bin", "schemathesis");
const CONFIG = path.join(REPO, "tests", "schemathesis", "schemathesis.toml");
const KEY = "schemathesis-key-1";

const servers = [];
after(async () => {
  for (const server of servers) await server.stop();
});

/**
 * Runs Schemathesis against a new server started with `args`; resolves its exit code and
 * output. Holds are cut short (--max-wait) and jobs are short (--delay), so a run is bounded by
 * its examples, not by long-polls; the seed makes a failure reproducible.
 */
async function schemathesis(args, headers = []) {
  assert.ok(fs.existsSync(SCHEMATHESIS), `no Schemathesis at ${SCHEMATHESIS}: run scripts/install-tools.sh --schemathesis`);
  const server = await startServer(["--delay", "1", "--max-wait", "0.2", ...args], { quiet: true });
  servers.push(server);
  const reports = fs.mkdtempSync(path.join(os.tmpdir(), "vts-schemathesis-"));
  const result = await run(
    SCHEMATHESIS,
    [
      "--config-file", CONFIG, "--no-color",
      "run", `${server.url}/openapi.json`,
      "--max-examples", "25", "--seed", "21", "--request-timeout", "5",
      "--generation-database", "none", "--report-dir", reports,
      ...headers.flatMap((header) => ["-H", header]),
    ],
    { cwd: reports, timeout: 300_000 },
  );
  fs.rmSync(reports, { recursive: true, force: true });
  await server.stop();
  return result;
}

/** What a run says: the operations it tested and the cases it passed. */
function summary(stdout) {
  const tested = Number(stdout.match(/Tested: (\d+)/)?.[1]);
  const generated = Number(stdout.match(/(\d+) generated/)?.[1]);
  return { tested, generated };
}

test("the open server passes every default check of Schemathesis", { timeout: 300_000 }, async () => {
  const { code, stdout, stderr } = await schemathesis([]);
  assert.equal(code, 0, `Schemathesis found problems:\n${stdout}\n${stderr}`);
  assert.match(stdout, /No issues found/);
  const { tested, generated } = summary(stdout);
  // Every operation Schemathesis takes of the document's nine.
  assert.equal(tested, 8, stdout);
  assert.ok(generated >= 100, `only ${generated} cases:\n${stdout}`);
});

test("the server with --api-key passes too, its auth enforced where the document says", { timeout: 300_000 }, async () => {
  const { code, stdout, stderr } = await schemathesis(["--api-key", KEY], [`Authorization: Bearer ${KEY}`]);
  assert.equal(code, 0, `Schemathesis found problems:\n${stdout}\n${stderr}`);
  assert.match(stdout, /No issues found/);
  assert.equal(summary(stdout).tested, 8, stdout);
});
