// A status server that misbehaves on cue, for the client's fault matrix. Loopback only.
//
// Each request to the API (`/status`, `/jobs/...`) takes the next step of the script set with
// `script(steps)`; the last step repeats. A step is one of:
//   { status, json?, body?, headers? }  answer (json is serialized, body sent as is)
//   { hang: true }                       never answer (the socket stays open until stop)
//   { reset: true }                      drop the connection without an answer
//   { status, endless: true }            a body that never ends (chunks until the caller leaves)
//   { status, bodyBytes: n }             a body of n bytes of JSON whitespace then `{}`
// A status body whose `id` is "job" answers for whichever job was asked for.
// Every API request is recorded in `requests` with its arrival time (performance.now()).
// `POST /jobs/watch` answers 404, unrecorded, as a server without watches does: the client
// then polls each job with its own requests, which the script plays.
// The server also serves, for pages: `/` (an empty page) and `/pkg/...` (the npm package)
// and `/tests/...` (this folder), which are not recorded. Cross-origin callers may read it all.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { PKG_DIR, REPO } from "./helpers.mjs";

const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "retry-after, preference-applied, location",
};

/** `{ result: "pending" | "completed" | ... }` as a status step. */
export const answer = (result, extra = {}) => ({ status: 200, json: { id: "job", result, progress: null, eta_ms: null, ...extra } });

export async function startFaultServer({ port = 0 } = {}) {
  let steps = [answer("completed")];
  const requests = [];
  const sockets = new Set();

  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://localhost");
    if (request.method === "OPTIONS") {
      response.writeHead(204, { ...CORS, "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "content-type, accept, prefer" });
      return response.end();
    }
    if (url.pathname === "/") {
      response.writeHead(200, { "content-type": "text/html" });
      return response.end('<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>fault matrix</title>');
    }
    for (const [prefix, root] of [["/pkg/", PKG_DIR], ["/tests/", path.join(REPO, "tests")]]) {
      if (url.pathname.startsWith(prefix)) return serveFile(response, root, url.pathname.slice(prefix.length));
    }
    if (url.pathname === "/jobs/watch") {
      response.writeHead(404, { ...CORS, "content-type": "application/json" });
      return response.end(JSON.stringify({ error: { code: "not_found", message: "no watches here" } }));
    }
    const record = { method: request.method, path: url.pathname + url.search, headers: request.headers, at: performance.now(), bodyBytesSent: 0 };
    requests.push(record);
    const step = steps[Math.min(requests.length - 1, steps.length - 1)];
    if (step.hang) return;
    if (step.reset) return request.socket.destroy();
    if (step.endless || step.bodyBytes) {
      response.writeHead(step.status, { ...CORS, "content-type": "application/json" });
      return streamBody(response, step.endless ? Infinity : step.bodyBytes, record);
    }
    const headers = { ...CORS, "cache-control": "no-store", ...step.headers };
    if (step.json !== undefined) {
      const asked = url.pathname.match(/^\/jobs\/([^/]+)$/)?.[1];
      const json = step.json?.id === "job" && asked ? { ...step.json, id: decodeURIComponent(asked) } : step.json;
      response.writeHead(step.status, { "content-type": "application/json", ...headers });
      return response.end(JSON.stringify(json));
    }
    response.writeHead(step.status, headers);
    response.end(step.body ?? "");
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = server.address().port;

  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    /** Sets the steps the next API requests take, and forgets the requests so far. */
    script(next) {
      steps = next;
      requests.length = 0;
    },
    /** Stops listening and cuts every open connection, as a crashed server would. */
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Writes `bytes` of whitespace then `{}`, in 64 KiB chunks, as fast as the caller reads,
 * counting what it sent in `record.bodyBytesSent`.
 */
function streamBody(response, bytes, record) {
  const chunk = Buffer.alloc(64 * 1024, " ");
  let left = bytes;
  const more = () => {
    while (left > 0 && !response.destroyed) {
      left -= chunk.length;
      record.bodyBytesSent += chunk.length;
      if (!response.write(chunk)) return response.once("drain", more);
    }
    if (!response.destroyed) response.end("{}");
  };
  response.on("close", () => (left = 0));
  more();
}

function serveFile(response, root, relative) {
  const file = path.resolve(root, relative);
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404, CORS);
    return response.end();
  }
  response.writeHead(200, { ...CORS, "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(response);
}

/** A free loopback port, for a server that is not up yet. */
export async function freePort() {
  const probe = http.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
