// The real server binary: its flags, its static content, its headers on the wire.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { heldOnServer, SERVER_BIN, startServer, until } from "./helpers.mjs";

const run = promisify(execFile);

describe("command line", () => {
  test("--help explains every flag and its environment variable", async () => {
    const { stdout } = await run(SERVER_BIN, ["--help"]);
    for (const flag of [
      "--bind", "--delay", "--error-rate", "--eta-error", "--max-wait", "--job-ttl", "--max-jobs",
      "--max-waiters", "--rate-limit", "--cors-origin", "--body-timeout", "--api-key",
      "VTS_BIND", "VTS_DELAY", "VTS_ERROR_RATE", "VTS_ETA_ERROR", "VTS_MAX_WAIT", "VTS_JOB_TTL",
      "VTS_MAX_JOBS", "VTS_MAX_WAITERS", "VTS_RATE_LIMIT", "VTS_CORS_ORIGINS",
      "VTS_BODY_TIMEOUT", "VTS_API_KEYS",
    ]) {
      assert.ok(stdout.includes(flag), `--help should mention ${flag}`);
    }
  });

  test("bad flags exit non-zero with a message that names them", async () => {
    for (const [args, mentions] of [
      [["--delay", "-3"], "--delay"],
      [["--error-rate", "1.5"], "--error-rate"],
      [["--bind", "nowhere"], "--bind"],
      [["--max-wait", "-1"], "--max-wait"],
      [["--eta-error", "2"], "--eta-error"],
      [["--max-jobs", "0"], "--max-jobs"],
      [["--cors-origin", "example.com"], "--cors-origin"],
      [["--body-timeout", "0"], "--body-timeout"],
    ]) {
      await assert.rejects(run(SERVER_BIN, args), (error) => {
        assert.notEqual(error.code, 0);
        assert.ok(error.stderr.includes(mentions), `${args.join(" ")}: ${error.stderr}`);
        return true;
      });
    }
  });

  test("flags can come from the environment", async () => {
    await assert.rejects(run(SERVER_BIN, [], { env: { ...process.env, VTS_DELAY: "soon" } }), (error) => {
      assert.match(error.stderr, /--delay/);
      return true;
    });
  });
});

describe("serving", () => {
  let server;
  before(async () => {
    server = await startServer(["--delay", "0.2"]);
  });
  after(() => server?.stop());

  test("GET /status answers the seeds' contract and finishes after --delay", async () => {
    // Asked until it is no longer pending (0.2 s after the start), within 10 s at most.
    const body = await until(
      async () => {
        const response = await fetch(`${server.url}/status`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type"), /^application\/json/);
        const status = await response.json();
        return status.result !== "pending" && status;
      },
      { what: "GET /status no longer pending", everyMs: 50 },
    );
    // --error-rate is 0 by default: the default job completes, never errs.
    assert.equal(body.result, "completed", JSON.stringify(body));
  });

  test("the demo page and the npm package are served from the same origin", async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="app.js">/);

    const glue = await fetch(`${server.url}/pkg/video_translation_client.js`);
    assert.equal(glue.status, 200);
    assert.match(glue.headers.get("content-type"), /javascript/);

    const wasm = await fetch(`${server.url}/pkg/video_translation_client_bg.wasm`);
    assert.equal(wasm.status, 200);
    // Browsers compile a module while it streams in only when it is served as application/wasm.
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
  });

  test("cross-origin callers can read Location from POST /jobs", async () => {
    const response = await fetch(`${server.url}/jobs`, {
      method: "POST",
      headers: { origin: "http://elsewhere.example", "content-type": "application/json" },
      body: JSON.stringify({ duration_ms: 1000 }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("access-control-allow-origin"), "http://elsewhere.example");
    assert.match(response.headers.get("access-control-expose-headers").toLowerCase(), /location/);
    const body = await response.json();
    assert.equal(response.headers.get("location"), `/jobs/${body.id}`);
  });

  test("unknown paths answer a JSON 404, never HTML", async () => {
    const response = await fetch(`${server.url}/definitely/not/here`);
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.error.code, "not_found");
  });
});

describe("request log", () => {
  test("each request is logged with its method, path and status while the server runs", async () => {
    const server = await startServer([], { logLevel: "info" });
    try {
      await fetch(`${server.url}/healthz`);
      await fetch(`${server.url}/jobs/nope`);
      // Lines are written by a background thread through a buffer; it must flush when idle,
      // not only at exit.
      const logged = (line) => server.stderr().includes(line);
      await until(() => logged('path="/jobs/nope" status=404') && logged('path="/healthz" status=200'), {
        what: "both requests logged",
      }).catch(() => {}); // the assertions below say what is missing
      assert.match(server.stderr(), /INFO request method=GET path="\/healthz" status=200 micros=\d+/);
      assert.match(server.stderr(), /INFO request method=GET path="\/jobs\/nope" status=404 micros=\d+/);
    } finally {
      await server.stop();
    }
  });

  test("RUST_LOG=warn leaves successful requests out", async () => {
    const server = await startServer([], { logLevel: "warn" });
    try {
      await fetch(`${server.url}/healthz`);
    } finally {
      await server.stop();
    }
    assert.doesNotMatch(server.stderr(), /request method=/);
  });
});

describe("stopping", () => {
  test("SIGTERM answers every held long-poll at once with the current status, then exits 0", async () => {
    const server = await startServer(["--max-wait", "60"]);
    try {
      const created = await (await fetch(`${server.url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"duration_ms": 600000}' })).json();
      const held = [1, 2, 3].map(() => fetch(`${server.url}/jobs/${created.id}?wait=60`).then(async (r) => ({ status: r.status, body: await r.json() })));
      await until(async () => (await heldOnServer(server.url)).long_poll === 3, { what: "three long-polls held" });
      const stopped = Date.now();
      process.kill(server.pid, "SIGTERM");
      const answers = await Promise.all(held);
      const answeredAfterMs = Date.now() - stopped;
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(answer.body.result, "pending");
        assert.equal(answer.body.id, created.id);
      }
      // Half the 60 s wait: only requests held for it fail, not a slow stop.
      assert.ok(answeredAfterMs < 30_000, `answered ${answeredAfterMs} ms after SIGTERM, not after the 60 s wait`);
      assert.deepEqual(await server.exited, { code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });
});
