#!/usr/bin/env node
// video-translation-status: watch a video-translation job from a terminal until it ends.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { initSync, VideoTranslationClient } from "../video_translation_client.js";
import { JsonDisplay, LineDisplay, TerminalDisplay, formatDuration } from "../cli/display.js";

/** Exit codes, documented in --help and the package README. */
const EXIT = { completed: 0, error: 1, timeout: 2, failed: 3, usage: 64, interrupted: 130 };

const HELP = `Usage: video-translation-status [options] <server-url> [job-id]

Watches a video-translation job until it ends, polling the server's status API with
jittered exponential backoff and the server's hints (ETA, Retry-After, long-polling).
Without a job id it watches the server's default job (GET /status).

Options:
  --timeout <seconds>   give up after this long (default: 7200, two hours)
  --header 'Name: value'
                        send this header with every request (repeatable)
  --json                print one JSON object per line (updates, retries, the end)
  -h, --help            show this help
  -v, --version         show the version

Output: a progress bar on a terminal, one line per poll otherwise.

Environment:
  VTS_API_KEY           sent as "Authorization: Bearer <key>" (a --header Authorization wins)

Exit codes:
  0    the job completed
  1    the job ended in error
  2    timed out before the job ended
  3    could not watch it: server unreachable, unknown job, or a bad answer
  64   bad arguments (the message says which)
  130  interrupted (Ctrl-C)

Example:
  npx video-translation-status http://127.0.0.1:8080 4f6c0e4b3a1d2c5e6f708192a3b4c5d6`;

function usageError(message) {
  process.stderr.write(`video-translation-status: ${message}\nTry --help for usage.\n`);
  process.exit(EXIT.usage);
}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        timeout: { type: "string" },
        header: { type: "string", multiple: true, default: [] },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    });
  } catch (error) {
    usageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(EXIT.completed);
  }
  if (values.version) {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(`${manifest.version}\n`);
    process.exit(EXIT.completed);
  }
  if (positionals.length === 0) usageError("missing <server-url>");
  if (positionals.length > 2) usageError(`expected <server-url> [job-id], got ${positionals.length} arguments`);
  const [serverUrl, jobId] = positionals;
  let url;
  try {
    url = new URL(serverUrl);
  } catch {
    usageError(`${JSON.stringify(serverUrl)} is not a URL; expected one like http://127.0.0.1:8080`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    usageError(`${JSON.stringify(serverUrl)} is not an http or https URL`);
  }
  let maxWaitMs;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
      usageError(`--timeout must be a number of seconds above 0, got ${JSON.stringify(values.timeout)}`);
    }
    maxWaitMs = seconds * 1000;
  }
  if (jobId !== undefined && jobId.trim() === "") usageError("the job id is empty");
  return { serverUrl, jobId, maxWaitMs, json: values.json, headers: headersFrom(values.header) };
}

/** `--header 'Name: value'` options, and `VTS_API_KEY` as a bearer token unless one is given. */
function headersFrom(lines) {
  const headers = new Headers();
  const apiKey = process.env.VTS_API_KEY?.trim();
  if (apiKey) headers.set("authorization", `Bearer ${apiKey}`);
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    if (colon < 1 || name === "") usageError(`--header must look like 'Name: value', got ${JSON.stringify(line)}`);
    try {
      headers.set(name, line.slice(colon + 1).trim());
    } catch {
      usageError(`--header ${JSON.stringify(line)} is not a valid HTTP header`);
    }
  }
  return headers;
}

async function main() {
  const options = parseCommandLine(process.argv.slice(2));
  initSync({ module: readFileSync(new URL("../video_translation_client_bg.wasm", import.meta.url)) });
  const client = new VideoTranslationClient(options.serverUrl, { maxWaitMs: options.maxWaitMs, headers: options.headers });
  const display = options.json
    ? new JsonDisplay(process.stdout)
    : process.stdout.isTTY
      ? new TerminalDisplay(process.stdout)
      : new LineDisplay(process.stdout);
  const what = options.jobId === undefined ? "the default job" : `job ${options.jobId}`;

  // One plain request first: an unreachable server or an unknown job is reported at once,
  // instead of being retried with backoff for the whole timeout.
  try {
    await client.getStatus(options.jobId);
  } catch (error) {
    return fail(display, explain(error, options.serverUrl, what));
  }

  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort(new Error("interrupted")));
  try {
    const outcome = await client.waitForCompletion(options.jobId, {
      signal: controller.signal,
      onUpdate: (update) => display.update(update),
      onRetry: (retry) => display.retry(retry),
    });
    const summary = `${what} ${outcome.result === "completed" ? "completed" : "ended in error"} after ${outcome.attempts} ${outcome.attempts === 1 ? "poll" : "polls"} in ${formatDuration(outcome.elapsedMs)}`;
    display.finish(summary, { result: outcome.result, attempts: outcome.attempts, elapsedMs: outcome.elapsedMs });
    return outcome.result === "completed" ? EXIT.completed : EXIT.error;
  } catch (error) {
    if (error.name === "TimeoutError") {
      display.finish(`gave up on ${what}: ${error.message}`, { result: "timeout", attempts: error.attempts, elapsedMs: error.elapsedMs });
      return EXIT.timeout;
    }
    if (error.name === "AbortError") {
      display.finish(`stopped watching ${what}`, { result: "interrupted" });
      return EXIT.interrupted;
    }
    return fail(display, explain(error, options.serverUrl, what));
  }
}

/** A message a person can act on, for each way a watch can fail. */
function explain(error, serverUrl, what) {
  switch (error.name) {
    case "NetworkError":
      return `cannot reach ${serverUrl} (${error.message}); is the server running?`;
    case "HttpError":
      return error.status === 404 ? `the server at ${serverUrl} has no ${what}` : `the server refused: ${error.message}`;
    case "ProtocolError":
      return `${serverUrl} does not answer like a video-translation server: ${error.message}`;
    default:
      return `${error.name ?? "Error"}: ${error.message ?? error}`;
  }
}

function fail(display, message) {
  if (display instanceof JsonDisplay) display.finish(message, { result: "failed" });
  process.stderr.write(`video-translation-status: ${message}\n`);
  return EXIT.failed;
}

process.exitCode = await main();
