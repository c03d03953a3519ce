//! `?progress_ms=`: how often a stream sends its pending jobs' status. Read by both faces of
//! `POST /jobs/watch`: the stream uses it, the JSON watch checks it, so the route says one
//! thing of it.

use std::time::Duration;

use actix_web::{web, HttpRequest};
use serde::Deserialize;
use video_translation_protocol::stream::parse_progress;

use crate::error::ApiError;

/// The query parameter of a stream's progress (see [`PROGRESS_PARAM`]).
///
/// [`PROGRESS_PARAM`]: video_translation_protocol::stream::PROGRESS_PARAM
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// On an event stream only: a `jobs` event with every pending listed job's status every
    /// so many milliseconds (a whole number from 1000 to 86400000, a day). A query parameter,
    /// so that a server without streams ignores it; a watch that is not a stream checks it
    /// and ignores it.
    #[param(value_type = Option<u64>, minimum = 1000, maximum = 86_400_000)]
    progress_ms: Option<String>,
}

/// The progress interval the query asks for; a malformed one is a `400`.
pub fn requested_progress(request: &HttpRequest) -> Result<Option<Duration>, ApiError> {
    let query = web::Query::<ProgressQuery>::from_query(request.query_string())
        .map_err(|error| ApiError::BadRequest(format!("the query string: {error}")))?;
    query
        .into_inner()
        .progress_ms
        .map(|text| parse_progress(&text).map(Duration::from_millis))
        .transpose()
        .map_err(ApiError::BadRequest)
}
