//! The TypeScript declarations of everything the JS API takes and gives, appended to the
//! generated `.d.ts` so users see real types instead of `any`.

use wasm_bindgen::prelude::*;

// Argument types: JS values the methods validate themselves, typed for TypeScript. Wrapped
// in `Option`, wasm-bindgen declares them optional (`options?: ClientOptions | null`).
#[wasm_bindgen]
extern "C" {
    /// `ClientOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "ClientOptions")]
    pub type ClientOptionsArg;
    /// `CreateJobOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "CreateJobOptions")]
    pub type CreateJobArg;
    /// `WaitOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "WaitOptions")]
    pub type WaitOptionsArg;
    /// A job id: a `string` in TypeScript, checked at run time.
    #[wasm_bindgen(typescript_type = "string")]
    pub type JobIdArg;
    /// Job ids: a `string[]` in TypeScript, checked at run time.
    #[wasm_bindgen(typescript_type = "readonly string[]")]
    pub type JobIdsArg;
}

/// The JS value of an optional argument; `undefined` when it was left out.
pub fn optional<T: Into<JsValue>>(argument: Option<T>) -> JsValue {
    argument.map_or(JsValue::UNDEFINED, Into::into)
}

#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT: &'static str = r#"
/** A job's state: `pending` until it ends `completed` or `error`. */
export type JobResult = "pending" | "completed" | "error";

/** The two final results. */
export type FinalResult = "completed" | "error";

/** A job's status. Fields the server did not send are `null`. */
export interface JobStatus {
  /** The job's id; `"default"` for the server's default job, `null` if not sent. */
  id: string | null;
  result: JobResult;
  /** Fraction done, from 0 to 1. */
  progress: number | null;
  /** Milliseconds until the job is expected to end; 0 once it has. */
  etaMs: number | null;
  /** Why the job ended other than by running its course: `"cancelled"`; `null` otherwise. */
  reason: string | null;
}

/** A job just created: its status, whose `id` is always there. */
export interface CreatedJob extends JobStatus {
  id: string;
}

/** Extra request headers: an object, a `Headers`, or `[name, value]` pairs. */
export type HeadersValue = Record<string, string> | Headers | ReadonlyArray<readonly [string, string]>;

/**
 * Options of a `VideoTranslationClient`. Every field is optional; `undefined` or `null`
 * keeps the default. Defaults suit real translation jobs (minutes to tens of minutes).
 */
export interface ClientOptions {
  /**
   * Extra headers for every request (e.g. `{ Authorization: "Bearer KEY" }`), or a function
   * called before each request, sync or async, that returns them (for rotating tokens).
   */
  headers?: HeadersValue | (() => HeadersValue | Promise<HeadersValue>) | null;
  /** A fetch-compatible function used for every request (proxies, tests, instrumentation). Default: the global `fetch`. */
  fetch?: ((input: string, init: RequestInit) => Promise<Response>) | null;
  /** Gap after the first poll, in ms, before jitter. At least 1. Default 1000. */
  initialDelayMs?: number | null;
  /** Largest gap between polls, in ms, before jitter. Default 15000. */
  maxDelayMs?: number | null;
  /** Each gap is the previous one times this, up to `maxDelayMs`. At least 1. Default 1.5. */
  backoffFactor?: number | null;
  /** 0..1: a gap d is drawn from [d*(1-jitter), d]; 1 = full jitter, 0 = none. Default 0.2. */
  jitter?: number | null;
  /** Give up after this many requests (failed ones count). `Infinity` = no limit. Default: no limit. */
  maxAttempts?: number | null;
  /** Give up after this long, in ms, with one last poll exactly at the deadline. `Infinity` = never. Default 7200000 (2 h). */
  maxWaitMs?: number | null;
  /** One request's limit, in ms; a slower request is cancelled and retried (a long-poll gets its wait on top). Default 30000. */
  requestTimeoutMs?: number | null;
  /**
   * Use the server's hints (`etaMs`, `progress`, `Retry-After`, long-polling): sleep while the
   * job is far from done, long-poll near its end. `false` = plain jittered backoff. Default true.
   */
  adaptive?: boolean | null;
  /** How long a long-poll asks the server to hold the request, in ms (the server may cap it). 0 = never long-poll. Default 30000. */
  longPollWaitMs?: number | null;
  /** 0..1: how wrong the server's estimate may be, as a fraction of the whole job; the client wakes that much early. Default 0.25. */
  etaTolerance?: number | null;
  /** Watch every job through one stream (`POST /jobs/watch` as `text/event-stream`) when the server offers it, falling back to long-polls when it does not. Default true; streams need `adaptive` and a `longPollWaitMs` above 0. */
  stream?: boolean | null;
  /** While streaming, ask for every pending job's status this often (whole ms, at least 1000; 0 = only ends). Default 15000. */
  progressIntervalMs?: number | null;
}

/** `createJob`'s request to the simulated server; missing fields take the server's defaults. */
export interface CreateJobOptions {
  /** How long the job stays pending, in whole ms. */
  durationMs?: number;
  /** How the job ends. */
  outcome?: FinalResult;
  /** The length the server reports (`etaMs`, `progress` count it down), in whole ms; by default the server's own, possibly imperfect, estimate. */
  estimateMs?: number;
}

/** What `onUpdate` receives for each status observed. */
export interface StatusUpdate extends JobStatus {
  /** Which request this was, from 1. */
  attempt: number;
  /** Milliseconds since the wait started. */
  elapsedMs: number;
  /** Milliseconds until the next poll (0: at once, or while a stream carries the job); `null` when this status ends the wait. */
  nextPollInMs: number | null;
  /** The wait the next poll (after `nextPollInMs`) asks the server to hold it (a long-poll), in ms; `null` for a plain poll. */
  nextPollWaitMs: number | null;
  /** `waitForAll` only: the job's place in `jobIds`. */
  index?: number;
  /** `waitForAll` only: waits of the set that are over. */
  settled?: number;
  /** `waitForAll` only: jobs in the set. */
  total?: number;
}

/** What `onRetry` receives after a failed attempt that will be retried. */
export interface RetryInfo {
  attempt: number;
  elapsedMs: number;
  /** What went wrong: network error, HTTP 503, timeout, malformed body. */
  error: string;
  nextPollInMs: number;
  /** `waitForAll` only: the job's place in `jobIds`. */
  index?: number;
  /** `waitForAll` only: waits of the set that are over. */
  settled?: number;
  /** `waitForAll` only: jobs in the set. */
  total?: number;
}

/** Options of one `waitForCompletion` call. */
export interface WaitOptions {
  /** Called with each status observed. If it throws, the wait rejects with that error. */
  onUpdate?: (update: StatusUpdate) => void;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (retry: RetryInfo) => void;
  /** Aborts the wait: it rejects with an `AbortError` and sends no further request. */
  signal?: AbortSignal;
  /**
   * When `signal` aborts the wait, also cancel the job on the server
   * (`POST /jobs/{id}/cancel`, retried like `cancelJob`, its answer not awaited). Default
   * `false`: an aborted wait only stops watching.
   */
  cancelOnAbort?: boolean;
}

/** How `waitForCompletion` resolves. */
export interface WaitResult {
  result: FinalResult;
  /** Requests sent, failed ones included. */
  attempts: number;
  elapsedMs: number;
  /** The final status as the server sent it. */
  status: JobStatus | null;
}

/** How each job of `waitForAll` settled, as `Promise.allSettled` says it. */
export type WaitSettled =
  | { status: "fulfilled"; value: WaitResult }
  | { status: "rejected"; reason: VideoTranslationError };

/** The `name` of every error the client rejects with. */
export type VideoTranslationErrorName =
  | "TimeoutError"
  | "AbortError"
  | "HttpError"
  | "ProtocolError"
  | "NetworkError";

/** `maxWaitMs` or `maxAttempts` ran out before a final result, or one request passed `requestTimeoutMs`. */
export interface TimeoutError extends Error {
  name: "TimeoutError";
  attempts: number;
  elapsedMs: number;
}

/** The `AbortSignal` fired; `cause` is its reason. */
export interface AbortError extends Error {
  name: "AbortError";
}

/** A permanent HTTP failure (e.g. 404), or any non-2xx answer to a single request. */
export interface HttpError extends Error {
  name: "HttpError";
  status: number;
  /** The `code` of the server's error body, if it sent one. */
  code: string | null;
}

/** The server's answer is not the contract. */
export interface ProtocolError extends Error {
  name: "ProtocolError";
}

/** A single request (`createJob`, `getStatus`) got no answer. */
export interface NetworkError extends Error {
  name: "NetworkError";
}

/** Any error the client rejects with; narrow it on `name`. */
export type VideoTranslationError = TimeoutError | AbortError | HttpError | ProtocolError | NetworkError;
"#;
