//! What the store could not do. The store's own words: what an answer says of it (status,
//! `Retry-After`, message) is the HTTP side's, in `crate::error`.

use std::time::Duration;

/// What the store could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot take this request now (jobs or held requests at their cap);
    /// asking again after `retry_after` may succeed.
    #[error("{reason}")]
    Busy {
        /// What is full, for the error message.
        reason: String,
        /// When to ask again.
        retry_after: Duration,
    },
    /// The backend did not answer in time, or answered with an error: Redis is down, slow,
    /// full or refusing. Nothing was done; asking again later may succeed. The text is the
    /// detail for the log (made by [`StoreError::unavailable`], which logs it); the error
    /// shows only a short message, so no Redis error, script hash or address reaches an
    /// answer.
    #[error("the job store cannot serve this request now")]
    Unavailable(String),
    /// An `Idempotency-Key` used before with another request.
    #[error("the idempotency key {0:?} was first used with another request")]
    KeyReused(String),
}

impl StoreError {
    /// How long a caller should wait before retrying a request refused with `Unavailable`:
    /// long enough for a restarted Redis to come back, short enough not to lose a poller.
    pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// `Unavailable` with `detail`, which is logged here, the one place it is seen.
    pub fn unavailable(operation: &'static str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::warn!(operation, error = %detail, "the job store failed");
        StoreError::Unavailable(detail)
    }
}
