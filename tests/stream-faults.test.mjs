// The client's streams against a server that streams as each test scripts it
// (tests/stream-server.mjs): every job on one stream, each end as it comes, and what the
// client does with a stream that sends nothing, garbage, an endless line, or breaks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadClient } from "./helpers.mjs";
import { startStreamServer } from "./stream-server.mjs";

let VideoTranslationClient;
before(async () => {
  ({ VideoTranslationClient } = await loadClient());
});

const servers = [];
after(() => Promise.all(servers.map((server) => server.stop())));

async function serve(jobs, onStream) {
  const server = await startStreamServer({ jobs, onStream });
  servers.push(server);
  return server;
}

/** A client that gives up quickly if a test goes wrong, and retries fast. */
const client = (server, options = {}) =>
  new VideoTranslationClient(server.url, { initialDelayMs: 50, maxDelayMs: 200, jitter: 0, maxWaitMs: 30_000, ...options });

const ids = (n) => Array.from({ length: n }, (_, i) => `${i}`.padStart(32, "0"));

test("every job rides one stream and each end settles its wait as it comes", async () => {
  const [a, b, c] = ids(3);
  const server = await serve({ [a]: 300, [b]: 600, [c]: 900 }, (stream) => {
    stream.open();
    stream.jobs();
    stream.endsAsTheyCome();
  });
  const watching = client(server);
  const updates = [];
  const results = await Promise.all(
    [a, b, c].map((id) => watching.waitForCompletion(id, { onUpdate: (update) => updates.push(update) })),
  );
  assert.deepEqual(results.map((r) => [r.result, r.attempts]), [["completed", 1], ["completed", 1], ["completed", 1]]);
  assert.equal(server.streams.length, 1, "one stream for the three jobs");
  assert.deepEqual(server.streams[0].ids, [a, b, c]);
  assert.equal(server.streams[0].progress, "15000", "the default progress interval is asked for");
  assert.equal(server.watches.length, 0, "no long-poll beside the stream");
  const pending = updates.filter((update) => update.result === "pending");
  assert.equal(pending.length, 3, "the stream's first jobs event reaches each wait");
  assert.ok(pending.every((update) => update.nextPollInMs === 0 && update.nextPollWaitMs === null));
});

test("an unknown id fails its wait with HttpError 404 while the others go on", async () => {
  const [known, unknown] = ids(2);
  const server = await serve({ [known]: 200 }, (stream) => {
    stream.open();
    stream.missing([unknown]);
    stream.endsAsTheyCome();
  });
  const watching = client(server);
  const [ended, failed] = await Promise.allSettled([watching.waitForCompletion(known), watching.waitForCompletion(unknown)]);
  assert.equal(ended.value.result, "completed");
  assert.equal(failed.reason.name, "HttpError");
  assert.equal(failed.reason.status, 404);
});

test("a stream that sends nothing (a proxy that buffers) gives way to long-polled watches", async () => {
  const [a] = ids(1);
  // Headers, then silence: what a buffering proxy lets through. The job ends 10 s after the
  // client's 5 s for a first event, so even a late fallback finds it pending and holds a watch.
  const server = await serve({ [a]: 15_000 }, () => {});
  const result = await client(server).waitForCompletion(a);
  assert.equal(result.result, "completed");
  assert.equal(server.streams.length, 1, "no second stream once one was held back");
  assert.ok(server.watches.length >= 1, "the job was long-polled instead");
  assert.ok(server.watches.some((watch) => watch.wait > 0), "with a held watch");
});

test("a stream whose events are not the contract counts as malformed, then watches are used", async () => {
  const [a] = ids(1);
  const server = await serve({ [a]: 500 }, (stream) => {
    stream.open();
    stream.raw("event: end\nid: 1\ndata: this is not JSON\n\n");
  });
  const retries = [];
  const result = await client(server).waitForCompletion(a, { onRetry: (retry) => retries.push(retry) });
  assert.equal(result.result, "completed");
  assert.equal(server.streams.length, 1);
  assert.match(retries[0].error, /not JSON/);
  assert.ok(server.watches.length >= 1);
});

test("an endless line is cut at 1 MiB, not read forever", async () => {
  const [a] = ids(1);
  let sent = 0;
  const server = await serve({ [a]: 500 }, (stream) => {
    stream.open();
    stream.raw("data: ");
    const chunk = "x".repeat(64 * 1024);
    const pump = () => {
      // Bounded: 8 MiB at most, so a client that never cuts it cannot hang the test.
      while (sent < 8 * 1024 * 1024 && stream.response.write(chunk)) sent += chunk.length;
      if (sent < 8 * 1024 * 1024 && !stream.response.destroyed) stream.response.once("drain", pump);
    };
    pump();
  });
  const retries = [];
  const result = await client(server).waitForCompletion(a, { onRetry: (retry) => retries.push(retry) });
  assert.equal(result.result, "completed");
  assert.match(retries[0].error, /more than 1048576 bytes/);
  assert.ok(sent < 4 * 1024 * 1024, `the client stopped reading after ${sent} bytes`);
});

test("a broken stream is resumed after its last event, and no end is lost", async () => {
  const [a, b] = ids(2);
  const server = await serve({ [a]: 100, [b]: 900 }, (stream, n) => {
    if (n === 0) {
      stream.open("0");
      stream.later(200, () => {
        stream.end(a, "1");
        stream.later(50, () => stream.drop());
      });
      return;
    }
    stream.open(stream.record.lastEventId ?? "0");
    stream.endsAsTheyCome(2);
  });
  const watching = client(server);
  const results = await Promise.all([watching.waitForCompletion(a), watching.waitForCompletion(b)]);
  assert.deepEqual(results.map((r) => r.result), ["completed", "completed"]);
  assert.equal(server.streams.length, 2);
  assert.deepEqual(server.streams[1].ids, [b], "the ended job is not asked again");
  assert.equal(server.streams[1].lastEventId, "1", "resumed after the last event seen");
  assert.equal(results[1].attempts, 2, "the break cost the job still waiting one attempt");
});

test("a stream the server closes is opened again, and one closed at once does not spin", async () => {
  const [a] = ids(1);
  const server = await serve({ [a]: 2_500 }, (stream) => {
    stream.open();
    stream.close();
  });
  const started = performance.now();
  const result = await client(server, { maxDelayMs: 1_000 }).waitForCompletion(a, { signal: AbortSignal.timeout(4_000) }).catch((error) => error);
  assert.equal(result.name, "AbortError", "no stream ever brought the end");
  const seconds = (performance.now() - started) / 1000;
  assert.ok(server.streams.length <= 4 * seconds + 2, `${server.streams.length} streams in ${seconds.toFixed(1)} s: a backoff gap between them`);
  assert.ok(server.streams.length >= 2, "the closed stream was opened again");
});

test("with stream: false the client long-polls watches as before", async () => {
  const [a] = ids(1);
  const server = await serve({ [a]: 300 }, () => assert.fail("no stream is asked for"));
  const result = await client(server, { stream: false }).waitForCompletion(a);
  assert.equal(result.result, "completed");
  assert.equal(server.streams.length, 0);
});

test("a job's deadline ends its wait while the stream goes on for the others", async () => {
  const [short, long] = ids(2);
  const server = await serve({ [short]: 60_000, [long]: 1_500 }, (stream) => {
    stream.open();
    stream.endsAsTheyCome();
  });
  const watching = client(server, { maxWaitMs: 60_000 });
  const shortWait = new VideoTranslationClient(server.url, { maxWaitMs: 500 });
  const [timedOut, ended] = await Promise.allSettled([shortWait.waitForCompletion(short), watching.waitForCompletion(long)]);
  assert.equal(timedOut.reason.name, "TimeoutError");
  assert.equal(ended.value.result, "completed");
});
