// The client's ways of touching the outside world: one HTTP exchange, bounded in time and
// abortable; the turns of a client's watch loop (timers, wake-ups, requests in flight); a
// promise with its settling functions; and, at the API's edge, the shape of the option
// objects callers pass (keys and types: `Io.checkOptions`). Everything else (when to poll,
// what an answer means, when to give up, which values are in range) is decided in Rust; see
// src/watcher.rs, src/wasm/watching.rs and src/wasm/options.rs. One file, not several: each
// snippet is one more module for a page to fetch, inside the package's size budget.
//
// Written in JS rather than through web-sys and Rust futures: the same behaviour in Rust
// took more than a third of the gzipped package's budget (futures, an executor, timers and
// a dozen bindings).
//
// Nothing is left behind: timers are cleared and abort listeners removed however a request
// or a loop ends, so a long-lived signal shared by many waits does not collect listeners.

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
 * | "malformed" | "protocol", message? }`. A timeout or an abort cancels the request. An
 * `idempotencyKey` is sent as the `Idempotency-Key` header.
 * Nothing is sent if `signal` has already fired.
 */
export function exchange(method, url, jsonBody, timeoutMs, signal, transport, idempotencyKey) {
  const controller = new AbortController();
  return bounded(
    timeoutMs,
    signal,
    (settle, _resolve, reject) => settle(reject, { kind: "timeout" }),
    (resolve, reject) => {
      send(method, url, jsonBody, controller.signal, transport, idempotencyKey).then(resolve, (error) =>
        reject(error?.kind ? error : { kind: "network", message: describe(error) }),
      );
    },
  ).finally(() => controller.abort());
}

async function send(method, url, jsonBody, signal, transport, idempotencyKey) {
  const extra = typeof transport?.headers === "function" ? await transport.headers() : transport?.headers;
  const headers = new Headers(extra ?? undefined);
  headers.set("accept", "application/json");
  if (jsonBody != null) headers.set("content-type", "application/json");
  if (idempotencyKey != null) headers.set("idempotency-key", idempotencyKey);
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
 * The I/O of one client's watch loop, which runs in turns: Rust's `tick` (given to `start`)
 * is called after each `sleep(ms)` runs out (never, if `ms` is negative) and soon after each
 * `kick()`, and carries out what the watcher decides. No turn runs inside another: a kick
 * from a callback or an answer only queues the next one.
 *
 * Requests go out through `send` and are cancelled through `cancel`; their answers queue up
 * for `takeAnswers`, each with the number it was sent with, and kick. Coming back online and
 * a hidden page becoming visible kick too, and mark the turn `urgent`: look at every job now.
 * Windows and workers have `online`; only pages have `visibilitychange`; Node has neither.
 */
export class Io {
  constructor() {
    this.tick = null;
    this.timer = undefined;
    this.queued = false;
    this.urgent = false;
    this.answers = [];
    this.requests = new Map();
    this.onBack = () => {
      if (globalThis.document?.visibilityState === "hidden") return;
      this.urgent = true;
      this.kick();
    };
  }

  /** Runs turns of `tick` until `stop()`; the first one soon. */
  start(tick) {
    this.tick = tick;
    globalThis.addEventListener?.("online", this.onBack);
    globalThis.document?.addEventListener("visibilitychange", this.onBack);
    this.kick();
  }

  /** Ends the turns: no timer, no listener and no request is left behind. */
  stop() {
    this.tick = null;
    clearTimeout(this.timer);
    globalThis.removeEventListener?.("online", this.onBack);
    globalThis.document?.removeEventListener("visibilitychange", this.onBack);
    for (const controller of this.requests.values()) controller.abort();
    this.requests.clear();
    this.answers = [];
  }

  /** A turn soon, whatever the timer says. */
  kick() {
    if (this.queued || !this.tick) return;
    this.queued = true;
    queueMicrotask(() => this.turn());
  }

  /** The next turn in `ms`, unless kicked before; none if `ms` is negative. */
  sleep(ms) {
    clearTimeout(this.timer);
    this.timer = ms >= 0 ? setTimeout(() => this.turn(), ms) : undefined;
  }

  turn() {
    this.queued = false;
    clearTimeout(this.timer);
    this.tick?.();
  }

  /**
   * Sends request number `id` (see `exchange`); its reply or failure is queued for
   * `takeAnswers`, unless it is cancelled first.
   */
  send(id, method, url, jsonBody, idempotencyKey, timeoutMs, transport) {
    const controller = new AbortController();
    this.requests.set(id, controller);
    const answer = (result) => {
      if (this.requests.get(id) !== controller) return;
      this.requests.delete(id);
      this.answers.push(id, result);
      this.kick();
    };
    exchange(method, url, jsonBody, timeoutMs, controller.signal, transport, idempotencyKey).then(answer, answer);
  }

  /** Cancels request number `id`: its answer is no longer wanted. */
  cancel(id) {
    this.requests.get(id)?.abort();
    this.requests.delete(id);
  }

  /** The answers since the last call, flat: `[id, replyOrFailure, id, replyOrFailure, ...]`. */
  takeAnswers() {
    const answers = this.answers;
    this.answers = [];
    return answers;
  }

  /** Whether this turn should look at every job now; clears it. */
  takeUrgent() {
    const urgent = this.urgent;
    this.urgent = false;
    return urgent;
  }

  /** The environment says it is offline (`navigator.onLine`; never in Node). */
  offline() {
    return globalThis.navigator?.onLine === false;
  }

  /** Kicks when `signal` fires; returns the function that stops listening. */
  listen(signal) {
    const onAbort = () => this.kick();
    signal.addEventListener("abort", onAbort);
    return () => signal.removeEventListener("abort", onAbort);
  }

  /**
   * `value` checked as the options called `what` (see `OPTIONS`): `null` for `undefined` or
   * `null` (all defaults), the object otherwise. Throws a `TypeError` that names the problem
   * for a non-object, an unknown key (a typo such as `maxDelay`) or a value of the wrong type;
   * a field that is `undefined` or `null` is "not given". Ranges are checked in Rust.
   */
  static checkOptions(value, what) {
    if (value == null) return null;
    const kinds = OPTIONS[what];
    const names = Object.keys(kinds).join(", ");
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError(`${what} must be an object with any of: ${names}`);
    }
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(kinds, key)) {
        throw new TypeError(`unknown key ${JSON.stringify(key)} in ${what}; expected any of: ${names}`);
      }
      const [expected, fits] = KINDS[kinds[key]];
      if (value[key] != null && !fits(value[key])) {
        throw new TypeError(`${what}: ${key} must be ${expected}, got ${describeValue(value[key])}`);
      }
    }
    return value;
  }

  /**
   * A new `Idempotency-Key`: 128 bits from the platform's CSPRNG, in hex. (`getRandomValues`,
   * unlike `randomUUID`, works in pages served over plain http too.)
   */
  static idempotencyKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /** A promise and the functions that settle it, as `[promise, resolve, reject]`. */
  static settleable() {
    let resolve;
    let reject;
    const promise = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return [promise, resolve, reject];
  }
}

/** Every option of the JS API, by the name of the object that holds it, with its kind. */
const OPTIONS = {
  options: {
    headers: "headers",
    fetch: "fetch",
    initialDelayMs: "number",
    maxDelayMs: "number",
    backoffFactor: "number",
    jitter: "number",
    maxAttempts: "number",
    maxWaitMs: "number",
    requestTimeoutMs: "number",
    adaptive: "boolean",
    longPollWaitMs: "number",
    etaTolerance: "number",
  },
  "waitForCompletion's options": { onUpdate: "function", onRetry: "function", signal: "signal", cancelOnAbort: "boolean" },
  "createJob's request": { durationMs: "number", outcome: "string", estimateMs: "number" },
};

/** What each kind of option must be, in words, and the test. */
const KINDS = {
  number: ["a number", (value) => typeof value === "number"],
  boolean: ["a boolean", (value) => typeof value === "boolean"],
  string: ["a string", (value) => typeof value === "string"],
  function: ["a function", (value) => typeof value === "function"],
  signal: ["an AbortSignal", (value) => value instanceof AbortSignal],
  headers: ["an object or a function returning one", (value) => typeof value === "object" || typeof value === "function"],
  fetch: ["a function like the global fetch", (value) => typeof value === "function"],
};

/** A value for a message: its type, then the value itself where short (`string "soon"`). */
function describeValue(value) {
  const kind = typeof value;
  if (kind === "string") return `string ${JSON.stringify(value)}`;
  return kind === "number" || kind === "boolean" ? `${kind} ${value}` : kind;
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
