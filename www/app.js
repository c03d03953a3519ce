// The demo page: starts simulated jobs and watches each with the wasm client.
// Plain ES module, no build step: the client is served by the same server at /pkg/.
import init, { VideoTranslationClient } from "/pkg/video_translation_client.js";

const form = document.querySelector("#start-form");
const formError = document.querySelector("#form-error");
const startButton = document.querySelector("#start");
const jobList = document.querySelector("#jobs");
const noJobs = document.querySelector("#no-jobs");
const template = document.querySelector("#job-template");

const POLICY_FIELDS = ["initialDelayMs", "backoffFactor", "maxDelayMs", "jitter", "maxWaitMs"];
/** Past this many cards the list turns into a dense grid, so a hundred jobs fit on a screen. */
const DENSE_FROM = 13;

/**
 * One client per distinct polling settings, kept for the page's life: every job watched with
 * the same settings shares that client's one watch, whichever batch started it.
 */
const clients = new Map();
const totals = { started: 0, running: 0, completed: 0, failed: 0 };
const stats = trackStats();

/** The API key, when the server asks for one: kept for this tab's session only. */
const KEY_STORAGE = "video-translation-api-key";
const keyField = document.querySelector("#key-field");
const keyInput = keyField.querySelector("input");
const bearer = () => {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
};

await init();
await askForAKeyIfNeeded();
document.body.dataset.ready = "true";

/** Shows the key field when `/healthz` says the server wants a bearer key. */
async function askForAKeyIfNeeded() {
  const health = await fetch("/healthz").then((response) => response.json()).catch(() => ({}));
  if (health.auth !== "bearer") return;
  keyField.hidden = false;
  keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? "";
}

// An error about what the form held goes once the person changes it: left up, it would
// speak of values no longer there.
form.addEventListener("input", () => showFormError(null));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showFormError(null);
  const data = new FormData(form);
  if (!keyField.hidden) sessionStorage.setItem(KEY_STORAGE, String(data.get("apiKey") ?? "").trim());
  let client;
  try {
    client = clientFor(policyFrom(data));
  } catch (error) {
    showFormError(`${error.name}: ${error.message}`);
    return;
  }
  const count = Number(data.get("count"));
  const durationMs = Number(data.get("duration")) * 1000;
  const spread = data.get("spread") === "on";
  const outcome = data.get("outcome");

  // Busy until every job is created, one request each: say so, and take no second start.
  startButton.disabled = true;
  try {
    for (let i = 0; i < count; i += 1) {
      startButton.textContent = count > 1 ? `Starting ${i + 1} of ${count}…` : "Starting…";
      // Spread: each job's duration drawn from [0.5, 1.5) times the one asked for.
      const request = { durationMs: Math.round(spread ? durationMs * (0.5 + Math.random()) : durationMs) };
      if (outcome) request.outcome = outcome;
      try {
        const job = await client.createJob(request);
        watch(client, job);
      } catch (error) {
        showFormError(`Could not start a job — ${error.name}: ${error.message.replace(/\.$/, "")}.${hintFor(error)}`);
        if (error.status === 401) keyInput.focus();
        return;
      }
    }
  } finally {
    startButton.disabled = false;
    startButton.textContent = "Start";
  }
});

/** What a person can do about a failed start. */
function hintFor(error) {
  if (error.status === 401) return " Check the API key.";
  if (error.name === "NetworkError") return " Is the server running?";
  return "";
}

/** The client for these settings: made once, then shared (the constructor checks them). */
function clientFor(options) {
  const key = JSON.stringify(options);
  let client = clients.get(key);
  if (!client) {
    // The key is read before each request, so a key typed later serves every client.
    client = new VideoTranslationClient(location.origin, { ...options, headers: bearer });
    clients.set(key, client);
  }
  return client;
}

/**
 * The counters of the "All jobs" panel, redrawn four times a second: jobs by state, requests
 * the clients hold now, and the status requests sent so far (polls and watches, as the
 * browser's resource timing entries list them; creating a job is not one).
 */
function trackStats() {
  const panel = document.querySelector("#stats");
  const show = (name, value) => (panel.querySelector(`[data-stat="${name}"]`).textContent = value);
  let requests = 0;
  const isStatusRequest = (entry) => {
    const { origin, pathname } = new URL(entry.name);
    return origin === location.origin && (pathname.startsWith("/jobs/") || pathname === "/status");
  };
  // An observer sees every entry, past the performance buffer's 250 too.
  new PerformanceObserver((list) => {
    requests += list.getEntries().filter(isStatusRequest).length;
  }).observe({ type: "resource", buffered: true });

  const redraw = () => {
    if (totals.started === 0) return;
    panel.hidden = false;
    let held = 0;
    for (const client of clients.values()) held += client.heldRequests;
    show("running", totals.running);
    show("completed", totals.completed);
    show("failed", totals.failed);
    show("held", held);
    show("requests", requests);
    show("per-job", (requests / totals.started).toFixed(1));
    show("clients", clients.size);
  };
  setInterval(redraw, 250);
  return { redraw };
}

/** The client options the person filled in; empty fields keep the defaults. */
function policyFrom(data) {
  const options = { adaptive: data.get("adaptive") === "on" };
  for (const name of POLICY_FIELDS) {
    const text = String(data.get(name) ?? "").trim();
    if (text !== "") options[name] = Number(text);
  }
  return options;
}

function showFormError(message) {
  formError.hidden = message === null;
  formError.textContent = message ?? "";
}

/** Adds a card for `job` and polls it until it ends or is cancelled. */
async function watch(client, job) {
  const card = template.content.firstElementChild.cloneNode(true);
  const part = (role) => card.querySelector(`[data-role="${role}"]`);
  const fill = card.querySelector(".bar-fill");
  const bar = card.querySelector(".bar");
  card.querySelector(".job-id").textContent = job.id;
  card.querySelector(".job-id").title = job.id;
  card.dataset.jobId = job.id;
  jobList.prepend(card);
  jobList.classList.toggle("dense", jobList.children.length >= DENSE_FROM);
  noJobs.hidden = true;
  totals.started += 1;
  totals.running += 1;
  stats.redraw();

  const controller = new AbortController();
  part("cancel").addEventListener("click", () => controller.abort(new Error("cancelled from the page")));

  const startedAt = performance.now();
  let nextPollAt = null;
  let heldUpTo = null; // a long-poll in flight: the server holds it until the job ends
  let streamed = false; // the client's open stream will carry the job's next news
  let glide = null; // the bar's glide from what the server last reported (see showProgress)
  let eta = null; // the server's last estimate and when it came: counted down between answers
  const showEta = () =>
    (part("eta").textContent = eta === null ? "—" : seconds(Math.max(0, eta.ms - (performance.now() - eta.at))));
  // Also drawn as each answer or failure comes, so it never lags the badge by a tick.
  const showNext = () =>
    (part("next").textContent = streamed ? "streamed by the server" : nextPollText(nextPollAt, heldUpTo, card.dataset.trouble === "retrying"));
  const ticker = setInterval(() => {
    part("elapsed").textContent = seconds(performance.now() - startedAt);
    showNext();
    showEta();
    // The bar glides past what the server reported: say how far it has drawn, so the
    // number and the bar a person sees agree.
    if (glide !== null) part("progress").textContent = progressText(glide);
  }, 100);

  const log = (text, kind = "") => {
    const entry = document.createElement("li");
    entry.className = kind;
    entry.textContent = `${seconds(performance.now() - startedAt)}  ${text}`;
    part("log").append(entry);
  };

  const setStatus = (text, state) => {
    part("status").textContent = text;
    card.dataset.state = state;
  };
  // While polls fail the job's state is unknown: the badge says the client is retrying.
  const setTrouble = (trouble) => {
    if (trouble) card.dataset.trouble = trouble;
    else delete card.dataset.trouble;
    part("status").textContent = trouble ?? card.dataset.state;
  };

  setStatus("pending", "pending");
  // What the creation's answer said, until the first poll says more.
  eta = job.etaMs === null ? null : { ms: job.etaMs, at: performance.now() };
  showEta();
  log(`created, ${job.etaMs === null ? "no ETA" : `ETA ${seconds(job.etaMs)}`}`);

  try {
    const outcome = await client.waitForCompletion(job.id, {
      signal: controller.signal,
      onUpdate(update) {
        setTrouble(null);
        // Against a server that streams, every pending update says "next at once, no wait":
        // the news comes on the stream the client holds, not from a poll in 0.0 s.
        streamed = update.nextPollInMs === 0 && update.nextPollWaitMs === null && client.heldRequests > 0;
        part("polls").textContent = String(update.attempt);
        if (update.progress !== null) glide = showProgress(fill, bar, part("progress"), update, streamed);
        eta = update.etaMs === null ? null : { ms: update.etaMs, at: performance.now() };
        showEta();
        nextPollAt = update.nextPollInMs === null ? null : performance.now() + update.nextPollInMs;
        heldUpTo = update.nextPollWaitMs;
        showNext();
        log(`poll #${update.attempt}: ${update.result}, ${percent(update.progress)}${streamed ? ", on the stream" : nextPollNote(update)}`);
      },
      onRetry(retry) {
        setTrouble("retrying");
        part("polls").textContent = String(retry.attempt);
        nextPollAt = performance.now() + retry.nextPollInMs;
        heldUpTo = null;
        streamed = false;
        showNext();
        log(`poll #${retry.attempt} failed: ${retry.error}; retrying in ${seconds(retry.nextPollInMs)}`, "warn");
      },
    });
    setStatus(outcome.result, outcome.result);
    totals[outcome.result === "completed" ? "completed" : "failed"] += 1;
    log(`${outcome.result} after ${outcome.attempts} polls in ${seconds(outcome.elapsedMs)}`);
  } catch (error) {
    if (error.name !== "AbortError") totals.failed += 1;
    // Stop the glide toward the estimate: the bar shows where the job was when we stopped.
    fill.style.width = getComputedStyle(fill).width;
    fill.style.transition = "none";
    const state = error.name === "AbortError" ? "cancelled" : "failed";
    setStatus(error.name === "AbortError" ? "cancelled" : error.name, state);
    log(`${error.name}: ${error.message}`, "warn");
  } finally {
    totals.running -= 1;
    clearInterval(ticker);
    nextPollAt = null;
    streamed = false;
    delete card.dataset.trouble;
    if (glide !== null) part("progress").textContent = progressText(glide);
    part("next").textContent = "—";
    part("eta").textContent = "—";
    part("cancel").disabled = true;
  }
}

function nextPollText(at, heldUpTo, retrying) {
  if (at === null) return "—";
  const wait = Math.max(0, at - performance.now());
  if (heldUpTo !== null && wait === 0) return `held by the server (≤ ${seconds(heldUpTo)})`;
  return `${retrying ? "retry in" : "in"} ${seconds(wait)}`;
}

/**
 * The server's figure, and the bar's estimate beside it once that has moved on: where the
 * glide is now, worked out from its start rather than read from the layout (a hundred cards
 * reading theirs ten times a second would make the page lay itself out a thousand times).
 */
function progressText({ from, to, at, ms }) {
  const done = ms > 0 ? Math.min(1, (performance.now() - at) / ms) : 1;
  const drawn = Math.round((from + (to - from) * done) * 100);
  return drawn > Math.round(from * 100) ? `${percent(from)} (est. ${drawn} %)` : percent(from);
}

function nextPollNote(update) {
  if (update.nextPollInMs === null) return "";
  if (update.nextPollWaitMs !== null) {
    const after = update.nextPollInMs > 0 ? ` in ${seconds(update.nextPollInMs)}` : " now";
    return `, long-poll${after} (held up to ${seconds(update.nextPollWaitMs)})`;
  }
  return `, next poll in ${seconds(update.nextPollInMs)}`;
}

/**
 * Shows the polled progress, then glides the bar toward where the job should be when we
 * next hear of it (estimated from its ETA): the next poll, or the job's end while a
 * long-poll or a stream is held. So the bar moves between polls too. Returns the glide: `{ from, to,
 * at, ms }`.
 */
function showProgress(fill, bar, label, update, streamed) {
  const now = update.progress;
  let expected = now;
  let glideMs = 0;
  if (update.nextPollInMs !== null && update.etaMs) {
    // A stream, like a held long-poll, carries the end when it comes: glide to the ETA.
    const nextNewsMs = streamed ? update.etaMs : update.nextPollInMs + (update.nextPollWaitMs ?? 0);
    glideMs = Math.min(nextNewsMs, update.etaMs);
    expected = Math.min(1, now + (1 - now) * (glideMs / update.etaMs));
  }
  fill.style.transition = "none";
  fill.style.width = `${now * 100}%`;
  void fill.offsetWidth; // commit the jump before animating from it
  fill.style.transition = `width ${glideMs}ms linear`;
  fill.style.width = `${expected * 100}%`;
  bar.setAttribute("aria-valuenow", String(Math.round(now * 100)));
  label.textContent = percent(now);
  return { from: now, to: expected, at: performance.now(), ms: glideMs };
}

function percent(progress) {
  return progress === null ? "progress unknown" : `${Math.round(progress * 100)} %`;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}
