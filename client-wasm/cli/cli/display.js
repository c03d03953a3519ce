// How the command line shows a wait: a progress bar redrawn in place on a terminal, one plain
// line per update otherwise (logs, pipes, CI), or one JSON object per line for scripts.

/** "1h 2m", "2m 5s", "4.2s": short and readable at a glance. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "?";
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.floor(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function percent(progress) {
  return progress == null ? "  ?%" : `${Math.round(progress * 100)}%`.padStart(4);
}

/** The words after the bar or at the start of a line: result, eta, next poll. */
function describe(update) {
  const parts = [update.result, percent(update.progress).trim()];
  if (update.result === "pending" && update.etaMs != null) parts.push(`eta ${formatDuration(update.etaMs)}`);
  if (update.nextPollInMs != null) {
    const hold = update.nextPollWaitMs != null ? `, held up to ${formatDuration(update.nextPollWaitMs)}` : "";
    parts.push(`next poll in ${formatDuration(update.nextPollInMs)}${hold}`);
  }
  return parts.join("  ");
}

/** Redraws one line in place: `[#######.......]  45%  pending  eta 1m 12s ...`. */
export class TerminalDisplay {
  constructor(stream) {
    this.stream = stream;
  }

  update(update) {
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 60));
    const done = Math.round((update.progress ?? 0) * width);
    const bar = `[${"#".repeat(done)}${".".repeat(width - done)}]`;
    const line = `${bar} ${describe(update)}  (poll ${update.attempt}, ${formatDuration(update.elapsedMs)})`;
    // \r and "erase to end of line": the bar replaces itself instead of scrolling.
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
  }

  retry(retry) {
    this.stream.write(`\r\x1b[Kretrying in ${formatDuration(retry.nextPollInMs)}: ${retry.error}`);
  }

  finish(text) {
    this.stream.write(`\r\x1b[K${text}\n`);
  }
}

/** One line per update, for anything that is not a terminal. */
export class LineDisplay {
  constructor(stream) {
    this.stream = stream;
  }

  update(update) {
    this.stream.write(`poll ${update.attempt} at ${formatDuration(update.elapsedMs)}: ${describe(update)}\n`);
  }

  retry(retry) {
    this.stream.write(`poll ${retry.attempt} failed, retrying in ${formatDuration(retry.nextPollInMs)}: ${retry.error}\n`);
  }

  finish(text) {
    this.stream.write(`${text}\n`);
  }
}

/** One JSON object per line: every update, every retry, then the outcome. */
export class JsonDisplay {
  constructor(stream) {
    this.stream = stream;
  }

  update(update) {
    this.stream.write(`${JSON.stringify({ event: "update", ...update })}\n`);
  }

  retry(retry) {
    this.stream.write(`${JSON.stringify({ event: "retry", ...retry })}\n`);
  }

  finish(text, outcome) {
    this.stream.write(`${JSON.stringify({ event: "end", message: text, ...outcome })}\n`);
  }
}
