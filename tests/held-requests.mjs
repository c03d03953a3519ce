// Held requests as the server counts them: its store logs each held request's start and end
// with the number held (at debug level: RUST_LOG=video_translation_server::store=debug).
// Shared by the suites that bound how many requests a client keeps held.

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z\s+DEBUG held request (starts|ends) held=(\d+)/;

/** Microseconds since the epoch of an RFC 3339 UTC timestamp with up to µs digits. */
function micros(seconds, fraction = "") {
  return Date.parse(`${seconds}Z`) * 1000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

/**
 * From the server's stderr: `starts` (held requests seen), `maxHeld` (most held at once), and
 * `overlaps`, each time two or more were held: `{ at, ms, held }` (when it began, how long it
 * lasted, the most held during it). An overlap still open at the end of the log lasts to then.
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
    if (event.held >= 2 && !open) open = { at: event.at, from: event.us, held: event.held };
    else if (event.held >= 2) open.held = Math.max(open.held, event.held);
    else if (open) {
      overlaps.push({ at: open.at, ms: (event.us - open.from) / 1000, held: open.held });
      open = null;
    }
  }
  if (open) overlaps.push({ at: open.at, ms: (events.at(-1).us - open.from) / 1000, held: open.held });
  return { starts: events.filter((e) => e.starts).length, maxHeld, overlaps, events };
}
