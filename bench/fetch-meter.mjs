// Counts what the wasm client sends, by wrapping the Node global `fetch` it calls (js/io.js
// looks `fetch` up at each call): requests per job id, how long requests that asked the
// server to hold them (`?wait=`) were in flight, and how many of a group's requests were in
// flight at once. The benchmarks' own requests (creating jobs, the anchors' polls) go
// through `realFetch` and are not counted.

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
    const held = /[?&]wait=/.test(String(url));
    const group = ids.length ? groupOf(ids[0]) : undefined;
    const g = group === undefined ? null : groupStats(group);
    if (g) {
      g.requests += 1;
      move(g, +1);
    }
    const started = now();
    try {
      return await realFetch(url, init);
    } finally {
      // The server writes a whole answer at once, so the head's arrival is the answer's.
      const ms = now() - started;
      if (g) move(g, -1);
      for (const id of ids) {
        let job = jobs.get(id);
        if (!job) jobs.set(id, (job = { requests: 0, heldMs: 0 }));
        job.requests += 1;
        if (held) job.heldMs += ms;
      }
    }
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
