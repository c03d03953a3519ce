// The fleet as `make cluster` runs it: Redis, replicas (--store redis://) and nginx with
// cluster/nginx.conf in front, all on free loopback ports. One client watches 100 jobs through
// nginx; the replica holding the watch is killed with SIGKILL. Every watch must still complete
// (the client rides through to another replica) and no job may be lost. And a replica that
// trusts nginx (--trusted-proxy) rate-limits each client nginx forwards for, not nginx.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { freePort } from "./fault-server.mjs";
import { REPO, loadClient, startServer, until } from "./helpers.mjs";

const have = (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const missing = ["redis-server", "nginx"].filter((tool) => !have(tool));
// On CI the tools step installs both (make test-e2e needs cluster-tools): a missing one there
// is a failure, not a skip.
if (missing.length > 0 && process.env.CI) throw new Error(`${missing.join(" and ")} missing: run scripts/install-tools.sh --cluster`);

/** Spawns a long-running helper process, killed when the test process exits. */
function spawnKept(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], ...options });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  return {
    child,
    stderr: () => stderr,
    async stop() {
      process.off("exit", kill);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
  };
}

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket.end() && true));
    socket.on("error", () => resolve(false));
  });

/** Held watches on one replica, as its /metrics counts them. */
async function heldWatches(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(text.match(/^vts_held_requests\{kind="watch"\} (\d+)/m)?.[1] ?? 0);
}

/**
 * Redis, `count` replicas given `args` and nginx with the repository's configuration, on free
 * ports; `stop()` ends them all.
 */
async function startFleet(count, args = [], editConfig = (config) => config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vts-cluster-"));
  const redisPort = await freePort();
  const redis = spawnKept("redis-server", ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no"]);
  const fleet = { replicas: [], url: undefined, nginx: undefined };
  fleet.stop = async () => {
    await fleet.nginx?.stop();
    await Promise.all(fleet.replicas.map((replica) => replica.stop()));
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await startedFleet(fleet, dir, redisPort, count, args, editConfig);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

/** The rest of {@link startFleet}, which stops what was started if this fails. */
async function startedFleet(fleet, dir, redisPort, count, args, editConfig) {
  await until(() => accepts(redisPort), { what: "redis-server to listen" });
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startServer(["--store", `redis://127.0.0.1:${redisPort}`, ...args])),
  );
  // The ones that started are stopped with the rest if another did not.
  fleet.replicas = started.filter((replica) => replica.status === "fulfilled").map((replica) => replica.value);
  const failed = started.find((replica) => replica.status === "rejected");
  if (failed) throw failed.reason;
  // The repository's nginx configuration, on this test's ports (unused upstream lines dropped).
  const listen = await freePort();
  const ports = fleet.replicas.map((replica) => new URL(replica.url).port);
  let config = fs.readFileSync(path.join(REPO, "cluster", "nginx.conf"), "utf8");
  ["8081", "8082", "8083"].forEach((port, at) => {
    const line = new RegExp(`^\\s*server 127\\.0\\.0\\.1:${port} .*$`, "m");
    config = at < count ? config.replace(`server 127.0.0.1:${port} `, `server 127.0.0.1:${ports[at]} `) : config.replace(line, "");
  });
  config = config.replace("listen 127.0.0.1:8080;", `listen 127.0.0.1:${listen};`);
  assert.ok(config.includes(`listen 127.0.0.1:${listen};`) && ports.every((port) => config.includes(`:${port} `)));
  fs.mkdirSync(path.join(dir, "tmp"));
  fs.writeFileSync(path.join(dir, "nginx.conf"), editConfig(config));
  fleet.nginx = spawnKept("nginx", ["-p", `${dir}/`, "-c", path.join(dir, "nginx.conf"), "-e", "stderr"]);
  fleet.url = `http://127.0.0.1:${listen}`;
  await until(async () => (await fetch(`${fleet.url}/readyz`).catch(() => null))?.ok, { what: "nginx and the replicas to be ready" });
}

describe("a fleet behind nginx", { skip: missing.length > 0 && `${missing.join(" and ")} not installed` }, () => {
  let fleet;
  let VideoTranslationClient;

  before(async () => {
    fleet = await startFleet(3);
    ({ VideoTranslationClient } = await loadClient());
  });

  after(async () => {
    await fleet?.stop();
  });

  test("kill -9 of the replica holding 100 watches: every watch completes, no job is lost", { timeout: 60_000 }, async () => {
    const client = new VideoTranslationClient(fleet.url, { initialDelayMs: 200, maxDelayMs: 1000 });
    const jobs = [];
    for (let at = 0; at < 100; at += 1) {
      // Ends spread over 4 to 8 s: most of them after the kill.
      jobs.push(await client.createJob({ durationMs: 4000 + 40 * at, outcome: "completed" }));
    }
    const all = client.waitForAll(jobs.map((job) => job.id));
    const holder = await until(
      async () => {
        for (const replica of fleet.replicas) if ((await heldWatches(replica.url)) > 0) return replica;
        return undefined;
      },
      { what: "a replica to hold the client's watch" },
    );
    process.kill(holder.pid, "SIGKILL");
    assert.deepEqual(await holder.exited, { code: null, signal: "SIGKILL" });

    const settled = await all;
    const failed = settled.filter((outcome) => outcome.status !== "fulfilled" || outcome.value.result !== "completed");
    assert.deepEqual(failed, [], "every watch completes");
    for (const job of jobs) {
      const status = await client.getStatus(job.id);
      assert.equal(status.result, "completed", `job ${job.id} answers through the fleet`);
    }
  });
});

describe("a rate limit behind nginx", { skip: missing.length > 0 && `${missing.join(" and ")} not installed` }, () => {
  let fleet;

  before(async () => {
    // One replica, so that one limiter sees every request nginx forwards.
    fleet = await startFleet(1, ["--rate-limit", "5", "--trusted-proxy", "127.0.0.1"]);
  });

  after(async () => {
    await fleet?.stop();
  });

  // Every caller here is on loopback, as nginx is; a client's own X-Forwarded-For stands in for
  // its address elsewhere (nginx appends the address it saw, 127.0.0.1, which is trusted).
  const poll = (client) => fetch(`${fleet.url}/status`, { headers: { "x-forwarded-for": client } });

  test("counts each client nginx forwards for, not nginx", async () => {
    const answers = [];
    for (let i = 0; i < 20; i += 1) answers.push(await poll("203.0.113.7"));
    const statuses = answers.map((response) => response.status);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200], "a burst of 5 passes");
    // Past the burst, 5 a second: 15 more requests in a row meet the limit unless each takes 200 ms.
    const limited = answers.filter((response) => response.status === 429);
    assert.ok(limited.length > 0, `past the burst the client is refused: ${statuses}`);
    assert.match((await limited[0].json()).error.message, /from 203\.0\.113\.7/);
    const other = await poll("203.0.113.8");
    assert.equal(other.status, 200, "another client behind the same nginx has its own limit");
  });
});

/** A `fetch` for the client that records what it asks for: the path and the media it accepts. */
function recordingFetch(sent) {
  return (url, init) => {
    const { pathname, search } = new URL(String(url));
    sent.push({ path: pathname + search, accept: new Headers(init?.headers).get("accept") });
    return fetch(url, init);
  };
}

describe("event streams behind nginx", { skip: missing.length > 0 && `${missing.join(" and ")} not installed` }, () => {
  let VideoTranslationClient;
  before(async () => {
    ({ VideoTranslationClient } = await loadClient());
  });

  test("with the repository's configuration, one stream carries every job to its end", { timeout: 60_000 }, async () => {
    const fleet = await startFleet(2);
    try {
      const sent = [];
      const client = new VideoTranslationClient(fleet.url, { fetch: recordingFetch(sent) });
      const jobs = [];
      for (const durationMs of [1500, 2000, 2500]) jobs.push(await client.createJob({ durationMs, outcome: "completed" }));
      const outcomes = await Promise.all(jobs.map((job) => client.waitForCompletion(job.id)));
      assert.deepEqual(outcomes.map((outcome) => [outcome.result, outcome.attempts]), [["completed", 1], ["completed", 1], ["completed", 1]]);
      const watches = sent.filter((request) => request.path.startsWith("/jobs/watch"));
      assert.equal(watches.length, 1, `one request for the three: ${JSON.stringify(watches)}`);
      assert.match(watches[0].accept, /^text\/event-stream/);
    } finally {
      await fleet.stop();
    }
  });

  test("behind a proxy that holds streams back (buffering, gzip), the client falls back to long-polled watches", { timeout: 60_000 }, async () => {
    // nginx as a proxy that holds streams back: buffering on, the replicas' X-Accel-Buffering
    // ignored, and gzip on event streams. Buffering alone did not do it (nginx 1.22 still
    // passed each event on at once, as the client could take it, measured with curl -N);
    // compression is what holds a stream back in practice: nginx's deflate keeps the events
    // until its buffer fills or the stream ends.
    const buffering = (config) => {
      const edited = config.replace(
        "proxy_buffering off;",
        "proxy_buffering on;\n            proxy_ignore_headers X-Accel-Buffering;\n" +
          "            gzip on;\n            gzip_types text/event-stream;\n            gzip_min_length 0;",
      );
      assert.notEqual(edited, config);
      return edited;
    };
    const fleet = await startFleet(1, [], buffering);
    try {
      const sent = [];
      const client = new VideoTranslationClient(fleet.url, { fetch: recordingFetch(sent) });
      // Ends 10 s after the client's 5 s for a first event: a late fallback still holds a watch.
      const job = await client.createJob({ durationMs: 15_000, outcome: "completed" });
      const outcome = await client.waitForCompletion(job.id);
      assert.equal(outcome.result, "completed");
      const watches = sent.filter((request) => request.path.startsWith("/jobs/watch"));
      assert.match(watches[0].accept, /^text\/event-stream/, "a stream first");
      const after = watches.slice(1);
      assert.ok(after.length >= 1, `then watches: ${JSON.stringify(sent)}`);
      assert.ok(after.every((request) => request.accept === "application/json"), `no stream again: ${JSON.stringify(after)}`);
      assert.ok(after.some((request) => /[?&]wait=/.test(request.path)), "held ones among them");
    } finally {
      await fleet.stop();
    }
  });
});
