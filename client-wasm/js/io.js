// The client's two ways of touching the outside world: one HTTP exchange, bounded in time
// and abortable, and the wake-up its watch loop sleeps on. Everything else (when to poll,
// what an answer means, when to give up) is decided in Rust; see src/watcher.rs.
//
// Written in JS rather than through web-sys: the same behaviour in Rust took about 10 KB
// of the gzipped package (futures, timers and a dozen bindings), a third of its budget.
//
// Both leave nothing behind: the timer is cleared and the abort listener removed however
// they end, so a long-lived signal shared by many waits does not collect listeners.

/**
 * Runs `body(resolve, reject)` until it settles, `ms` passes (`onTimeout`), or `signal`
 * fires (rejects `{ kind: "aborted" }`); cleans up after itself either way.
 */
function bounded(ms, signal, onTimeout, body) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject({ kind: "aborted" });
    let timer;
    const onAbort = () => settle(reject, { kind: "aborted" });
    const settle = (how, value) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      how(value);
    };
    timer = setTimeout(() => onTimeout(settle, resolve, reject), ms);
    signal?.addEventListener("abort", onAbort);
    body(
      (value) => settle(resolve, value),
      (error) => settle(reject, error),
    );
  });
}

/**
 * One request through the global `fetch`, its body read in full. Resolves
 * `{ status, body, retryAfter, preferenceApplied }` (the two headers as strings or null);
 * rejects `{ kind: "timeout" | "aborted" | "network", message? }`. A timeout or an abort
 * cancels the request. Nothing is sent if `signal` has already fired.
 */
export function exchange(method, url, jsonBody, timeoutMs, signal) {
  const controller = new AbortController();
  return bounded(
    timeoutMs,
    signal,
    (settle, _resolve, reject) => settle(reject, { kind: "timeout" }),
    (resolve, reject) => {
      const headers = { accept: "application/json" };
      if (jsonBody != null) headers["content-type"] = "application/json";
      fetch(url, { method, headers, body: jsonBody ?? undefined, signal: controller.signal })
        .then(async (response) => ({
          status: response.status,
          body: await response.text(),
          retryAfter: response.headers.get("retry-after"),
          preferenceApplied: response.headers.get("preference-applied"),
        }))
        .then(resolve, (error) => reject({ kind: "network", message: describe(error) }));
    },
  ).finally(() => controller.abort());
}

/**
 * The wake-up of a client's watch loop: `sleep(ms)` resolves after `ms` (never, if `ms` is
 * negative) or at the next `kick()`, whichever comes first; a kick with nobody asleep is kept
 * for the next `sleep`. Answers, new waits and aborts kick it.
 */
export class Wakeup {
  constructor() {
    this.kicked = false;
    this.wake = null;
  }

  kick() {
    this.kicked = true;
    this.wake?.();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const timer = ms >= 0 ? setTimeout(() => this.wake(), ms) : undefined;
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        this.kicked = false;
        resolve();
      };
      if (this.kicked) this.wake();
    });
  }

  /** Kicks when `signal` fires; returns the function that stops listening. */
  listen(signal) {
    const onAbort = () => this.kick();
    signal.addEventListener("abort", onAbort);
    return () => signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A thrown value as text, with its `cause` when there is one: Node's "fetch failed" says
 * why only in its cause ("connect ECONNREFUSED 127.0.0.1:8080").
 */
function describe(error) {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
