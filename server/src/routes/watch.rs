//! `POST /jobs/watch`: many jobs in one request, held like a long-poll until the first of
//! them ends (see [`JobStore::watch`] for the rules and what a held watch costs).

use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::{
    ErrorBody, WatchAnswer, WatchRequest, MAX_WATCHED_IDS, WATCH_PATH,
};

use super::json_body::JsonBody;
use super::progress::{requested_progress, ProgressQuery};
use crate::error::ApiError;
use crate::long_poll::{self, WaitQuery};
use crate::store::JobStore;

/// The largest `POST /jobs/watch` body accepted: room for [`MAX_WATCHED_IDS`] ids of 32 hex
/// digits as `JSON.stringify` writes them (35 bytes each, 35 KB), or indented one per line
/// (`JSON.stringify(body, null, 2)`: 40 bytes each, 40 KB).
pub const MAX_WATCH_BODY_BYTES: usize = 40 * 1024;

/// The body of `POST /jobs/watch`: a new route, so JSON declared as such and nothing else.
const WATCH_BODY: JsonBody = JsonBody {
    what: "watch request",
    example: r#"{"ids": ["0123456789abcdef0123456789abcdef"]}"#,
};

#[utoipa::path(
    post,
    path = WATCH_PATH,
    tag = "jobs",
    security(("api_key" = [])),
    params(WaitQuery, ProgressQuery),
    request_body(
        content = WatchRequest,
        content_type = "application/json",
        description = "1 to 1,000 job ids; one JSON object and nothing after it, sent as \
            `application/json`.",
    ),
    responses(
        (status = 200, description = "At once, if a listed job has ended or is unknown: the \
            ended jobs in `jobs`, the unknown ids in `missing`. Otherwise held (with `?wait=` or \
            `Prefer: wait=`, capped by `--max-wait`) until the first listed job ends: every \
            listed job ended by then. Without a wait, when it runs out, or when the server \
            stops: every listed job's status. Each job once, in the order listed.\n\n\
            **Event stream.** With `text/event-stream` in `Accept` (and the same body), the \
            answer is a server-sent event stream instead (`?wait=` and `Prefer: wait=` are \
            ignored), for up to `--stream-lifetime` seconds (default 3600). Each event has \
            `event:`, `id:` and one `data:` line of compact JSON, in this order:\n\
            - `open`, data `OpenEvent` (`{\"heartbeat_ms\": 15000}`): first, at once, so that a \
            client behind a proxy that buffers streams can tell;\n\
            - `missing`, data `MissingEvent` (`{\"ids\": [...]}`): the unknown ids, once at the \
            start, if any;\n\
            - `end`, data `JobStatus`: one per listed job as it ends (at once for a job already \
            ended), in the order they ended;\n\
            - `jobs`, data `JobsEvent` (`{\"jobs\": [JobStatus]}`): every listed job still \
            pending: once at the start, every `progress_ms` milliseconds if the query asks \
            (1,000 to a day), and once before the server closes the stream at its lifetime or \
            at shutdown.\n\n\
            A comment `: keep-alive` follows any `--stream-heartbeat` seconds (default 15) \
            without an event. The stream ends after the last listed job's `end`, or after the \
            `jobs` event of a close. A stream holds one `--max-waiters` slot while open.\n\n\
            **Resuming.** Every `id` is an opaque cursor, `WATERMARK[:ID,...]`: every listed \
            job that ended by `WATERMARK` (Unix ms, trailing the stream's last look at the \
            store by 10 s) and every job named after it was delivered. Sent back as \
            `Last-Event-ID` with the same (or fewer) ids, the new stream sends every other \
            listed job's end: none missed, none already received sent again (past 32 ends \
            within 10 s, the earliest may be sent again).",
            content(
                (WatchAnswer = "application/json"),
                (String = "text/event-stream", example = json!(
                    "event: open\nid: 0\ndata: {\"heartbeat_ms\":15000}\n\n\
                     event: missing\nid: 1767225590000\ndata: {\"ids\":[\"nope\"]}\n\n\
                     event: end\nid: 1767225590000:0123456789abcdef0123456789abcdef\n\
                     data: {\"id\":\"0123456789abcdef0123456789abcdef\",\"result\":\"completed\",\"progress\":1.0,\"eta_ms\":0}\n\n\
                     : keep-alive\n\n"
                )),
            ),
            headers(
                ("Preference-Applied" = String, description = "`wait=SECONDS`: the wait the server applied (not on a stream)"),
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Accel-Buffering" = String, description = "`no`, on a stream: nginx passes each event on as it comes"),
            )),
        (status = 400, description = "Not a watch request (no ids, more than 1,000, another \
            shape, data after the object), a malformed `wait` or `progress_ms` (a whole \
            number of milliseconds from 1,000 to a day), or on a stream a `Last-Event-ID` that is not an \
            event id of this server; the message says why.", body = ErrorBody),
        (status = 413, description = "The body is over 40 KiB.", body = ErrorBody),
        (status = 415, description = "The body is not declared `application/json`.", body = ErrorBody),
        (status = 429, description = "Over the per-client rate limit.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request may pass"))),
        (status = 503, description = "Asked to wait (or for a stream) while the server holds \
            its maximum of held requests (`--max-waiters`; a watch or a stream counts once, \
            whatever its ids; one without a wait is still answered), or the job store (Redis) \
            does not answer.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    ),
)]
/// `200 {"jobs": [JobStatus], "missing": [id]}` for the listed jobs, held while all of them
/// are pending if `?wait=` or `Prefer: wait=` asks.
pub async fn watch(
    request: HttpRequest,
    query: web::Query<WaitQuery>,
    body: web::Bytes,
    store: web::Data<JobStore>,
) -> Result<HttpResponse, ApiError> {
    let ids = read_request(&request, &body)?.ids;
    // For streams only; checked here too, so that one route says one thing of it.
    requested_progress(&request)?;
    let wait = store
        .long_poll_limits()
        .applied_wait(long_poll::requested_wait(&request, &query)?);
    let answer = match wait {
        // Boxed, as a held long-poll is: only held watches carry the waiting machinery.
        Some(wait) => Box::pin(store.watch(&ids, wait)).await?,
        None => store.watch_now(&ids).await?,
    };
    Ok(long_poll::ok_with_wait_hints(wait).json(answer))
}

/// The watch request in `body`, streamed or not: one JSON object listing 1 to
/// [`MAX_WATCHED_IDS`] ids; `415` or `400` saying why otherwise.
pub(super) fn read_request(request: &HttpRequest, body: &[u8]) -> Result<WatchRequest, ApiError> {
    let watch = WATCH_BODY
        .read::<WatchRequest>(request, body)?
        .ok_or_else(|| WATCH_BODY.invalid("the body is empty"))?;
    if !(1..=MAX_WATCHED_IDS).contains(&watch.ids.len()) {
        return Err(WATCH_BODY.invalid(format!(
            "ids must list 1 to {MAX_WATCHED_IDS} job ids, not {}",
            watch.ids.len()
        )));
    }
    Ok(watch)
}
