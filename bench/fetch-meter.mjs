// Counts what the wasm client sends, by wrapping the Node global `fetch` it calls (the client
// looks `fetch` up at each call): requests per job id, how long requests that asked the
// server to hold them (`?wait=`, or a stream) were in flight, and how many of a group's
// requests were in flight at once. A stream is in flight until its body ends or is cancelled.
// The benchmarks' own requests (creating jobs, the anchors' polls) go through `realFetch` and
// are not counted.

export const realFetch = globalThis.fetch;
const now = () => performance.now();

/** Each job id a request is about: the path's `/jobs/{id}`, or a watch body's `ids`. */
function jobIdsOf(url, init) {
  const path = new URL(String(url)).pathname;
  if (path.endsWith("/jobs/watch")) {
    try {
      return JSON.parse(init?.body ?? "{}").ids ?? [];
    } catch {
      return [];
    }
  }
  const match = path.match(/\/jobs\/([^/]+)$/);
  return match ? [decodeURIComponent(match[1])] : [];
}

/**
 * Installs the meter. `groupOf(id)` names the group a job belongs to (or undefined); the
 * meter keeps, per job: `requests` (every request that carried its id, cancelled ones too)
 * and `heldMs` (time in flight of those that asked for a wait); per group: requests in
 * flight now, their maximum, and their time integral (for a time-weighted mean).
 */
/** `body` as it is, calling `finish` once when it ends, fails or is cancelled. */
function untilOver(body, finish) {
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

export function installFetchMeter(groupOf = () => undefined) {
  const jobs = new Map();
  const groups = new Map();
  const groupStats = (name) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { inFlight: 0, max: 0, area: 0, since: now(), requests: 0 }));
    return g;
  };
  const move = (g, delta) => {
    const t = now();
    g.area += g.inFlight * (t - g.since);
    g.since = t;
    g.inFlight += delta;
    g.max = Math.max(g.max, g.inFlight);
  };
  globalThis.fetch = async (url, init) => {
    const ids = jobIdsOf(url, init);
    const asksStream = String(new Headers(init?.headers).get("accept") ?? "").includes("text/event-stream");
    const held = asksStream || /[?&]wait=/.test(String(url));
    const group = ids.length ? groupOf(ids[0]) : undefined;
    const g = group === undefined ? null : groupStats(group);
    if (g) {
      g.requests += 1;
      move(g, +1);
    }
    for (const id of ids) {
      let job = jobs.get(id);
      if (!job) jobs.set(id, (job = { requests: 0, heldMs: 0 }));
      job.requests += 1;
    }
    const started = now();
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      const ms = now() - started;
      if (g) move(g, -1);
      if (held) for (const id of ids) jobs.get(id).heldMs += ms;
    };
    let response;
    try {
      response = await realFetch(url, init);
    } catch (error) {
      finish();
      throw error;
    }
    const streamed = response.body && (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
    // Any other answer is written whole at once, so the head's arrival is the answer's.
    if (!streamed) {
      finish();
      return response;
    }
    // A stream is over when its body ends or when the client aborts it (which does not always
    // reach a read in flight on the wrapped body).
    init?.signal?.addEventListener("abort", finish, { once: true });
    return new Response(untilOver(response.body, finish), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return {
    job: (id) => jobs.get(id) ?? { requests: 0, heldMs: 0 },
    /** A group's figures from `fromMs` until now: requests, max and mean in flight. */
    group(name, fromMs) {
      const g = groupStats(name);
      move(g, 0);
      return { requests: g.requests, maxInFlight: g.max, meanInFlight: g.area / (now() - fromMs) };
    },
    uninstall: () => (globalThis.fetch = realFetch),
  };
}
