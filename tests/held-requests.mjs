// Held requests as the server counts them: its store logs each held request's start and end
// with the number held (at debug level: RUST_LOG=video_translation_server::store=debug).
// Shared by the suites that bound how many requests a client keeps held.
import assert from "node:assert/strict";

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z\s+DEBUG held request (starts|ends) held=(\d+)/;

/** Microseconds since the epoch of an RFC 3339 UTC timestamp with up to µs digits. */
function micros(seconds, fraction = "") {
  return Date.parse(`${seconds}Z`) * 1000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

/**
 * From the server's stderr: `starts` (held requests seen), `maxHeld` (most held at once), and
 * `overlaps`, each time two or more were held: `{ at, ms, held, starts }` (when it began, how
 * long it lasted, the most held during it, how many held requests started during it, the one
 * that began it included). An overlap still open at the end of the log lasts to then.
 */
export function heldTimeline(stderr) {
  const events = [];
  for (const line of stderr.split("\n")) {
    const match = line.match(LINE);
    if (match) events.push({ at: match[1], us: micros(match[1], match[2]), starts: match[3] === "starts", held: Number(match[4]) });
  }
  // Two workers log: order by time, then by the count's own order (a start raises it).
  events.sort((a, b) => a.us - b.us);
  const overlaps = [];
  let open = null;
  let maxHeld = 0;
  for (const event of events) {
    maxHeld = Math.max(maxHeld, event.held);
    if (event.held >= 2 && !open) open = { at: event.at, from: event.us, held: event.held, starts: 1 };
    else if (event.held >= 2) {
      open.held = Math.max(open.held, event.held);
      if (event.starts) open.starts += 1;
    } else if (open) {
      overlaps.push({ at: open.at, ms: (event.us - open.from) / 1000, held: open.held, starts: open.starts });
      open = null;
    }
  }
  if (open) overlaps.push({ at: open.at, ms: (events.at(-1).us - open.from) / 1000, held: open.held, starts: open.starts });
  return { starts: events.filter((e) => e.starts).length, maxHeld, overlaps, events };
}

/**
 * Asserts that the server held one request at a time but for hand-overs. A client hands its
 * held watch over when a job joins it (or leaves): it cancels the held request and sends it
 * again, and the server may see the new one before it notices the old one's closed
 * connection, so two are held for a moment; two hand-overs in a row may stack (three held).
 * A request really held beside the other (one the client failed to cancel) stays held while
 * later hand-overs come and go, so the moment it opens takes in more held requests than two.
 * Counted in the order of the server's events, not in milliseconds: how long those moments
 * last is a figure of `make bench` (bench/pages.mjs), not a pass condition.
 */
export function assertHandOversOnly(timeline) {
  assert.ok(timeline.starts > 0, "the server logged held requests (debug level for the store)");
  assert.ok(timeline.maxHeld <= 3, `the server held ${timeline.maxHeld} requests at once`);
  for (const overlap of timeline.overlaps) {
    assert.ok(overlap.starts <= 2, `${overlap.starts} requests held while another stayed held (from ${overlap.at}, ${overlap.held} at most)`);
  }
}
