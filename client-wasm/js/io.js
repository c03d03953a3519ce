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

/** The most of an answer's body that is read: 1 MiB is generous for 1,000 watched jobs. */
export const MAX_BODY_BYTES = 1 << 20;

/** Redirects followed within the same origin, at most, for one request. */
export const MAX_REDIRECTS = 3;

/**
 * One request, its body read up to `MAX_BODY_BYTES`. `transport` is the client's
 * `{ headers, fetch }` options: extra headers (an object, a `Headers`, or a function called
 * before each request, sync or async, returning one) and a fetch-compatible function (the
 * global `fetch` by default). Redirects within the base URL's origin are followed up to
 * `MAX_REDIRECTS` times (a browser, which hides where they go, follows them itself: a loop
 * or another origin is then told from where it ends). Resolves `{ status, body, retryAfter, preferenceApplied }`
 * (the two headers as strings or null); rejects `{ kind: "timeout" | "aborted" | "network"
 * | "malformed" | "protocol", message? }`. A timeout or an abort cancels the request.
 * Nothing is sent if `signal` has already fired.
 */
export function exchange(method, url, jsonBody, timeoutMs, signal, transport) {
  const controller = new AbortController();
  return bounded(
    timeoutMs,
    signal,
    (settle, _resolve, reject) => settle(reject, { kind: "timeout" }),
    (resolve, reject) => {
      send(method, url, jsonBody, controller.signal, transport).then(resolve, (error) =>
        reject(error?.kind ? error : { kind: "network", message: describe(error) }),
      );
    },
  ).finally(() => controller.abort());
}

async function send(method, url, jsonBody, signal, transport) {
  const extra = typeof transport?.headers === "function" ? await transport.headers() : transport?.headers;
  const headers = new Headers(extra ?? undefined);
  headers.set("accept", "application/json");
  if (jsonBody != null) headers.set("content-type", "application/json");
  let target = url;
  for (let hop = 0; ; hop += 1) {
    // Redirects are followed here, not by fetch: a loop or a hop to another origin is the
    // server's fault, to report at once rather than retry (fetch would follow 20 hops, and
    // a browser would report the loop as a network error).
    // The same request at the new place (as 307 and 308 ask; a status API has no use for
    // the older codes' switch to GET).
    const init = { method, headers, body: jsonBody ?? undefined, signal, redirect: "manual" };
    const response = await (transport?.fetch ? transport.fetch(target, init) : fetch(target, init));
    // A browser hides where a redirect goes: let it follow this one, then check where it
    // ended. A loop then fails inside fetch, and is reported as one, not as the network's.
    if (response.type === "opaqueredirect") return followInBrowser(url, { ...init, redirect: "follow" }, transport);
    const location = response.status >= 300 && response.status < 400 ? response.headers.get("location") : null;
    if (location === null) return replyOf(response);
    response.body?.cancel();
    const next = new URL(location, target);
    if (next.origin !== new URL(url).origin) throw { kind: "protocol", message: `redirected to another origin: ${next.href}` };
    if (hop === MAX_REDIRECTS) throw { kind: "protocol", message: `more than ${MAX_REDIRECTS} redirects, the last to ${next.href}` };
    target = next.href;
  }
}

async function followInBrowser(url, init, transport) {
  let response;
  try {
    response = await (transport?.fetch ? transport.fetch(url, init) : fetch(url, init));
  } catch (error) {
    if (init.signal.aborted) throw error;
    throw { kind: "protocol", message: `redirects from ${url} did not end (a loop?): ${describe(error)}` };
  }
  if (new URL(response.url).origin !== new URL(url).origin) {
    throw { kind: "protocol", message: `redirected to another origin: ${response.url}` };
  }
  return replyOf(response);
}

/** What the client reads of an answer: its status, its body (bounded) and two headers. */
async function replyOf(response) {
  return {
    status: response.status,
    body: await readBounded(response),
    retryAfter: response.headers.get("retry-after"),
    preferenceApplied: response.headers.get("preference-applied"),
  };
}

/** The body as text, or `{ kind: "malformed" }` (the read cancelled) past `MAX_BODY_BYTES`. */
async function readBounded(response) {
  const tooLarge = () => ({ kind: "malformed", message: `the answer is larger than ${MAX_BODY_BYTES} bytes` });
  if (Number(response.headers.get("content-length")) > MAX_BODY_BYTES) {
    response.body?.cancel();
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The wake-up of a client's watch loop: `sleep(ms)` resolves after `ms` (never, if `ms` is
 * negative) or at the next `kick()`, whichever comes first; a kick with nobody asleep is kept
 * for the next `sleep`. Answers, new waits and aborts kick it.
 *
 * While the loop runs (`start()` to `stop()`), coming back online and a hidden page becoming
 * visible kick it too, and mark the kick `urgent`: look at every job now. Windows and
 * workers have `online`; only pages have `visibilitychange`; Node has neither.
 */
export class Wakeup {
  constructor() {
    this.kicked = false;
    this.urgent = false;
    this.wake = null;
    this.onBack = () => {
      if (globalThis.document?.visibilityState === "hidden") return;
      this.urgent = true;
      this.kick();
    };
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

  /** Whether the last wake-up asked to look at every job now; clears it. */
  takeUrgent() {
    const urgent = this.urgent;
    this.urgent = false;
    return urgent;
  }

  /** The environment says it is offline (`navigator.onLine`; never in Node). */
  offline() {
    return globalThis.navigator?.onLine === false;
  }

  start() {
    globalThis.addEventListener?.("online", this.onBack);
    globalThis.document?.addEventListener("visibilitychange", this.onBack);
  }

  stop() {
    globalThis.removeEventListener?.("online", this.onBack);
    globalThis.document?.removeEventListener("visibilitychange", this.onBack);
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
