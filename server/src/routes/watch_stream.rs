//! `POST /jobs/watch` with `Accept: text/event-stream`: the watch as an event stream (see
//! [`crate::stream`]). The same body as the watch, checked the same way; every refusal
//! (400, 413, 415, 503 with the slots full or the store down) is the usual JSON error,
//! answered before the stream starts. `?wait=` and `Prefer: wait=` mean nothing here.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use video_translation_protocol::stream::{EVENT_STREAM_TYPE, LAST_EVENT_ID_HEADER};

use super::progress::requested_progress;
use super::watch::read_request;
use crate::error::ApiError;
use crate::store::JobStore;
use crate::stream::{self, cursor::Resume, StreamSettings};

/// nginx's per-answer switch for its buffering: off, so each event leaves as it is written.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// Whether `Accept` asks for an event stream: `text/event-stream` among its media ranges, and
/// not refused there with `q=0`. Only an explicit ask: `*/*` keeps the JSON watch.
pub fn asks_for_events(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case(EVENT_STREAM_TYPE)
                && !parts.any(|parameter| {
                    parameter.split_once('=').is_some_and(|(name, value)| {
                        name.trim().eq_ignore_ascii_case("q")
                            && value.trim().parse::<f64>().is_ok_and(|q| q == 0.0)
                    })
                })
        })
}

/// `200 text/event-stream` of the listed jobs' ends (and progress if `progress_ms` asks),
/// resumed after `Last-Event-ID` if given.
pub async fn watch_stream(
    request: HttpRequest,
    body: web::Bytes,
    store: web::Data<JobStore>,
    settings: web::Data<StreamSettings>,
) -> Result<HttpResponse, ApiError> {
    let watch = read_request(&request, &body)?;
    let progress = requested_progress(&request)?;
    let resume = resume_from(&request)?;
    let opened = store.into_inner().open_feed(&watch.ids).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(EVENT_STREAM_TYPE),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((X_ACCEL_BUFFERING, HeaderValue::from_static("no")))
        .streaming(stream::event_body(opened, &resume, **settings, progress)))
}

/// Where the client's last stream of these jobs left off: its `Last-Event-ID`, or the start.
/// An empty one is the start (an `EventSource` sends none after an empty `id`); one this
/// server cannot have issued is a `400`.
fn resume_from(request: &HttpRequest) -> Result<Resume, ApiError> {
    const LAST_EVENT_ID: HeaderName = HeaderName::from_static(LAST_EVENT_ID_HEADER);
    let Some(value) = request.headers().get(LAST_EVENT_ID) else {
        return Ok(Resume::default());
    };
    let refused = |why: &str| {
        ApiError::BadRequest(format!(
            "Last-Event-ID is not an event id of this server's streams ({why}); send the `id` \
             of the last event received, or none to start over"
        ))
    };
    let text = value.to_str().map_err(|_| refused("it is not text"))?;
    if text.trim().is_empty() {
        return Ok(Resume::default());
    }
    Resume::parse(text).map_err(|why| refused(&why))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn asks(accept: &[&str]) -> bool {
        let mut request = TestRequest::post();
        for value in accept {
            request = request.append_header((header::ACCEPT, *value));
        }
        asks_for_events(request.to_http_request().headers())
    }

    #[test]
    fn only_an_explicit_event_stream_in_accept_asks_for_one() {
        assert!(asks(&["text/event-stream"]));
        assert!(asks(&["Text/Event-Stream"]));
        assert!(asks(&["application/json, text/event-stream;q=0.9"]));
        assert!(asks(&["application/json", "text/event-stream"]));
        assert!(!asks(&[]));
        assert!(!asks(&["*/*"]));
        assert!(!asks(&["text/*"]));
        assert!(!asks(&["application/json"]));
        assert!(!asks(&["text/event-stream; q=0"]));
        assert!(!asks(&["text/event-streams"]));
    }

    #[test]
    fn last_event_id_is_optional_and_refused_when_malformed() {
        let with = |value: &str| {
            resume_from(
                &TestRequest::post()
                    .insert_header((LAST_EVENT_ID_HEADER, value))
                    .to_http_request(),
            )
        };
        assert_eq!(
            resume_from(&TestRequest::post().to_http_request()).unwrap(),
            Resume::default()
        );
        assert_eq!(with("").unwrap(), Resume::default());
        assert_eq!(
            with("1700000000000").unwrap().watermark_ms,
            1_700_000_000_000
        );
        let refused = with("yesterday").unwrap_err();
        assert!(
            matches!(&refused, ApiError::BadRequest(message) if message.contains("Last-Event-ID")),
            "{refused:?}"
        );
    }
}
