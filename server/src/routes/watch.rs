//! `POST /jobs/watch`: many jobs in one request, held like a long-poll until the first of
//! them ends (see [`JobStore::watch`] for the rules and what a held watch costs).

use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::{
    ErrorBody, WatchAnswer, WatchRequest, MAX_WATCHED_IDS, WATCH_PATH,
};

use super::json_body::JsonBody;
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
    params(WaitQuery),
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
            stops: every listed job's status. Each job once, in the order listed.",
            body = WatchAnswer, headers(
                ("Preference-Applied" = String, description = "`wait=SECONDS`: the wait the server applied"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "Not a watch request (no ids, more than 1,000, another \
            shape, data after the object) or a malformed `wait`; the message says why.", body = ErrorBody),
        (status = 413, description = "The body is over 40 KiB.", body = ErrorBody),
        (status = 415, description = "The body is not declared `application/json`.", body = ErrorBody),
        (status = 429, description = "Over the per-client rate limit.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request may pass"))),
        (status = 503, description = "Asked to wait while the server holds its maximum of held \
            requests (`--max-waiters`; a watch counts once, whatever its ids; one without a \
            wait is still answered), or the job store (Redis) does not answer.", body = ErrorBody,
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
    let ids = WATCH_BODY
        .read::<WatchRequest>(&request, &body)?
        .ok_or_else(|| WATCH_BODY.invalid("the body is empty"))?
        .ids;
    if !(1..=MAX_WATCHED_IDS).contains(&ids.len()) {
        return Err(WATCH_BODY.invalid(format!(
            "ids must list 1 to {MAX_WATCHED_IDS} job ids, not {}",
            ids.len()
        )));
    }
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
