// A status server whose streamed watch behaves as each test scripts it, for the client's
// stream faults. Loopback only.
//
// Jobs are `{ id: endsAtMs }` from the server's start. `POST /jobs/watch`:
// - asked for `text/event-stream`: `onStream(stream, n)` plays the n-th stream (from 0), with
//   helpers to send the contract's events (`open`, `jobs`, `end`, `missing`, `comment`, `raw`)
//   and the jobs' state; every stream request is recorded in `streams`;
// - asked for JSON (the client's fallback): a watch as the real server answers it, held up to
//   `?wait=` until a listed job ends; recorded in `watches`.
import http from "node:http";

export async function startStreamServer({ jobs, onStream }) {
  const started = performance.now();
  const clock = () => performance.now() - started;
  const streams = [];
  const watches = [];
  const sockets = new Set();
  const timers = new Set();
  const later = (ms, work) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, Math.max(0, ms));
    timers.add(timer);
  };
  const status = (id) => {
    const end = jobs[id];
    if (end === undefined) return null;
    const done = clock() >= end;
    return { id, result: done ? "completed" : "pending", progress: done ? 1 : 0.5, eta_ms: done ? 0 : Math.round(end - clock()) };
  };

  const server = http.createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const url = new URL(request.url, "http://localhost");
    if (request.method !== "POST" || url.pathname !== "/jobs/watch") {
      response.writeHead(404, { "content-type": "application/json" });
      return response.end(JSON.stringify({ error: { code: "not_found", message: "only watches here" } }));
    }
    const ids = JSON.parse(body).ids;
    if ((request.headers.accept ?? "").includes("text/event-stream")) {
      const record = { ids, lastEventId: request.headers["last-event-id"] ?? null, progress: url.searchParams.get("progress_ms"), at: clock() };
      streams.push(record);
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      // Node holds a head back until the body's first bytes; a stream's goes at once.
      response.flushHeaders();
      const write = (text) => !response.destroyed && response.write(text);
      const stream = {
        ids,
        record,
        status,
        later,
        response,
        open: (id = "0", heartbeatMs = 15_000) => write(`event: open\nid: ${id}\ndata: ${JSON.stringify({ heartbeat_ms: heartbeatMs })}\n\n`),
        jobs: (id = "0") => write(`event: jobs\nid: ${id}\ndata: ${JSON.stringify({ jobs: ids.map(status).filter((s) => s && s.result === "pending") })}\n\n`),
        // Its final status, whatever the clock says: a timer may fire a hair before the end.
        end: (jobId, id) => write(`event: end\nid: ${id}\ndata: ${JSON.stringify({ ...status(jobId), result: "completed", progress: 1, eta_ms: 0 })}\n\n`),
        missing: (missingIds, id = "0") => write(`event: missing\nid: ${id}\ndata: ${JSON.stringify({ ids: missingIds })}\n\n`),
        comment: () => write(": keep-alive\n\n"),
        raw: (text) => write(text),
        close: () => response.end(),
        drop: () => response.socket?.destroy(),
        /** Sends each listed job's end as it comes, numbering events from `first`. */
        endsAsTheyCome: (first = 1) => {
          let next = first;
          for (const id of ids) {
            if (jobs[id] !== undefined) later(jobs[id] - clock(), () => stream.end(id, String(next++)));
          }
        },
      };
      return onStream(stream, streams.length - 1);
    }
    const wait = Number(url.searchParams.get("wait") ?? 0) * 1000;
    watches.push({ ids, wait, at: clock() });
    const answer = () => {
      const statuses = ids.map(status).filter(Boolean);
      const ended = statuses.filter((s) => s.result !== "pending");
      const missing = ids.filter((id) => jobs[id] === undefined);
      response.writeHead(200, { "content-type": "application/json", ...(wait ? { "preference-applied": `wait=${wait / 1000}` } : {}) });
      response.end(JSON.stringify({ jobs: ended.length || missing.length ? ended : statuses, missing }));
    };
    const firstEnd = Math.min(...ids.map((id) => jobs[id] ?? 0));
    if (wait && firstEnd > clock()) later(Math.min(wait, firstEnd - clock()), answer);
    else answer();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    streams,
    watches,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
