// The command-line tool the package ships, run through npx in a project that installed the
// packed tarball: exit codes, output on a terminal and off it, clear messages for bad input.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { answer, startFaultServer } from "./fault-server.mjs";
import { removeScratch, run, scratchProject, startServer } from "./helpers.mjs";

let server;
let project;

before(async () => {
  server = await startServer(["--delay", "0.3"]);
  project = await scratchProject("cli");
});
after(async () => {
  await server?.stop();
  removeScratch(project);
});

/** `npx video-translation-status ...args` in the scratch project. */
const status = (...args) => run("npx", ["--no-install", "video-translation-status", ...args], { cwd: project, timeout: 60_000 });

async function createJob(body) {
  const response = await fetch(`${server.url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return (await response.json()).id;
}

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const listener = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => listener.once("listening", resolve));
  const { port } = listener.address();
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

/**
 * A server whose job is pending until it has been asked three times, then completed, however
 * late the polls come: a real job could end before a slow npx start polled it at all. (It
 * refuses watches, so the tool polls the job itself; its first look is not a poll it prints.)
 * Stop it when done.
 */
async function pendingThenCompleted() {
  const scripted = await startFaultServer();
  const pending = answer("pending", { progress: 0.4 });
  scripted.script([pending, pending, pending, answer("completed", { progress: 1 })]);
  return scripted;
}

test("a completed job exits 0, printing one line per poll when not on a terminal", async () => {
  const scripted = await pendingThenCompleted();
  try {
    const { code, stdout, stderr } = await status(scripted.url, "job");
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.match(lines[0], /^poll 1 at [\d.]+s: pending\s+40%/);
    assert.match(lines.at(-2), /^poll \d+ at [\d.]+s: completed\s+100%/);
    assert.match(lines.at(-1), /^job job completed after \d+ polls? in /);
    assert.equal(lines.length, Number(lines.at(-1).match(/after (\d+) poll/)[1]) + 1, "one line per poll and one for the end");
    assert.doesNotMatch(stdout, /\r|\x1b\[/, "no terminal control codes off a terminal");
  } finally {
    await scripted.stop();
  }
});

test("a job that ends in error exits 1", async () => {
  const id = await createJob({ duration_ms: 300, outcome: "error" });
  const { code, stdout } = await status(server.url, id);
  assert.equal(code, 1);
  assert.match(stdout.trim().split("\n").at(-1), new RegExp(`^job ${id} ended in error after`));
});

test("a job that outlasts --timeout exits 2", async () => {
  const id = await createJob({ duration_ms: 60_000 });
  const started = Date.now();
  const { code, stdout } = await status("--timeout", "1", server.url, id);
  assert.equal(code, 2);
  assert.match(stdout, /gave up on job/);
  assert.ok(Date.now() - started < 20_000, "it stopped near its timeout");
});

test("without a job id it watches the server's default job", async () => {
  const { code, stdout } = await status(server.url);
  assert.equal(code, 0);
  assert.match(stdout, /the default job completed/);
});

test("on a terminal it draws a progress bar that redraws in place", async () => {
  const scripted = await pendingThenCompleted();
  try {
    // script(1) runs the tool on a pseudo-terminal, as a person at a shell would.
    const command = `npx --no-install video-translation-status ${scripted.url} job`;
    const { code, stdout } = await run("script", ["-qec", command, "/dev/null"], { cwd: project, timeout: 60_000 });
    assert.equal(code, 0, stdout);
    assert.match(stdout, /\r\[[#.]{10,30}\] pending/, "a bar with the status");
    assert.match(stdout, /\x1b\[K/, "each redraw erases the rest of the line");
    assert.match(stdout, /\[#+\] completed\s+100%/);
    assert.match(stdout, /job job completed after/);
  } finally {
    await scripted.stop();
  }
});

test("--json prints one JSON object per update and one for the end", async () => {
  const id = await createJob({ duration_ms: 300 });
  const { code, stdout } = await status("--json", server.url, id);
  assert.equal(code, 0);
  const events = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(events.at(-1).event, "end");
  assert.equal(events.at(-1).result, "completed");
  const updates = events.filter((e) => e.event === "update");
  assert.equal(updates.length, events.at(-1).attempts);
  assert.equal(updates[0].id, id);
});

test("--help shows usage and the exit codes, and exits 0", async () => {
  const { code, stdout } = await status("--help");
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: video-translation-status \[options\] <server-url> \[job-id\]/);
  for (const exit of ["0 ", "1 ", "2 ", "3 ", "64 "]) assert.match(stdout, new RegExp(`^  ${exit}`, "m"));
});

test("bad arguments exit 64 with a message that names the problem", async () => {
  const cases = [
    [[], /missing <server-url>/],
    [["not a url"], /"not a url" is not a URL/],
    [["ftp://127.0.0.1/"], /is not an http or https URL/],
    [["--timeout", "soon", server.url], /--timeout must be a number of seconds/],
    [["--nope", server.url], /Unknown option '--nope'/],
    [[server.url, "a", "b"], /expected <server-url> \[job-id\], got 3 arguments/],
    [["--header", "no colon", server.url], /--header must look like 'Name: value'/],
    [["--header", "bad name: 1", server.url], /is not a valid HTTP header/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await status(...args);
    assert.equal(code, 64, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.match(stderr, /Try --help/);
    assert.equal(stdout, "");
  }
});

test("an unreachable server or an unknown job exits 3 at once, saying which", async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const started = Date.now();
  const unreachable = await status(url, "0123");
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.stderr, new RegExp(`cannot reach ${url} \\(.*ECONNREFUSED.*\\); is the server running\\?`));
  assert.ok(Date.now() - started < 10_000, "no retrying for the whole timeout");

  const unknown = await status(server.url, "0123456789abcdef0123456789abcdef");
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /has no job 0123456789abcdef0123456789abcdef/);
});

test("--header and VTS_API_KEY go with every request", async () => {
  const recorder = await startFaultServer();
  try {
    const { code, stderr } = await run(
      "npx",
      ["--no-install", "video-translation-status", "--header", "X-Trace: run-7", recorder.url, "job"],
      { cwd: project, timeout: 60_000, env: { ...process.env, VTS_API_KEY: "secret-key" } },
    );
    assert.equal(code, 0, stderr);
    assert.ok(recorder.requests.length >= 2, "the first look, then the watch");
    for (const request of recorder.requests) {
      assert.equal(request.headers.authorization, "Bearer secret-key", request.path);
      assert.equal(request.headers["x-trace"], "run-7", request.path);
    }
  } finally {
    await recorder.stop();
  }
});

test("Ctrl-C stops the watch and exits 130", async () => {
  const { spawn } = await import("node:child_process");
  const id = await createJob({ duration_ms: 60_000 });
  // The installed bin itself (npx would stand between it and the signal).
  const bin = `${project}/node_modules/video-translation-client/bin/video-translation-status.js`;
  const child = spawn(process.execPath, [bin, server.url, id], { cwd: project });
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // Interrupted once it is watching: its first poll printed.
  for (const deadline = Date.now() + 20_000; !stdout.includes("poll 1") && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGINT");
  const { code } = await exited;
  assert.equal(code, 130, stdout);
  assert.match(stdout, new RegExp(`stopped watching job ${id}`));
});
