//! The body deadline (`--body-timeout`): a request's body must arrive within it once the head
//! has, or the request is answered `408` in the JSON error shape and its connection closed.
//!
//! actix-http cuts slow heads (`client_request_timeout`) but has no limit for bodies: a
//! `POST /jobs` announcing 4 KiB and sending one byte held its connection for as long as the
//! client liked. The request's payload is wrapped in a stream that fails at the deadline, so
//! whatever reads it (an extractor, a handler) gets an error instead of waiting on.
//!
//! Closing: actix-http closes a connection after the answer when the request's body was not
//! read to its end and its reader is still alive; once the reader is gone it would instead
//! drain a chunked body, as slowly as the client sends it. So when a body is left unfinished
//! (timed out, or not read by its handler), the reader is kept alive inside the answer's
//! body until that is sent.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;

use crate::error::ApiError;

/// How long a body may take (`--body-timeout`), shared with the middleware as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Middleware (`actix_web::middleware::from_fn`): times the request's body out after the
/// [`BodyTimeout`] in the app data, answering 408; requests without a body pass untouched.
pub async fn limit_body_time<B: MessageBody + 'static>(
    mut request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let timeout = request.app_data::<web::Data<BodyTimeout>>().map(|t| t.0);
    let payload = request.take_payload();
    let (Some(timeout), false) = (timeout, matches!(payload, Payload::None)) else {
        request.set_payload(payload);
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    };

    let body = Rc::new(RefCell::new(BodyState::Reading(payload)));
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(DeadlineStream {
            body: Rc::clone(&body),
            deadline: Box::pin(sleep(timeout)),
        });
    request.set_payload(Payload::Stream { payload: stream });
    let response = next.call(request).await?;

    // The handler has answered; its payload stream may outlive it (held by a body), so take
    // what is left of the body from the shared state rather than from the stream.
    let state = std::mem::replace(&mut *body.borrow_mut(), BodyState::Ended);
    let unread = match state {
        BodyState::Ended => return Ok(response.map_into_left_body()),
        BodyState::Reading(unread) => unread,
        BodyState::TimedOut(unread) => {
            let (request, _) = response.into_parts();
            let error = ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} s (--body-timeout)",
                timeout.as_secs_f64()
            ));
            let answer = error.error_response();
            return Ok(ServiceResponse::new(request, answer)
                .map_body(|_, answer| EitherBody::right(ClosingBody::boxed(answer, unread))));
        }
    };
    Ok(response.map_body(|_, answer| EitherBody::right(ClosingBody::boxed(answer, unread))))
}

/// Where the request's body stands, shared by the stream the handler reads and the middleware.
enum BodyState {
    /// Being read (or not read at all): the payload from the connection.
    Reading(Payload),
    /// Read to its end or failed on its own: nothing to keep.
    Ended,
    /// The deadline passed first: the unread rest, kept to close the connection.
    TimedOut(Payload),
}

/// The request's payload, failing with a timeout at the deadline.
struct DeadlineStream {
    body: Rc<RefCell<BodyState>>,
    deadline: Pin<Box<Sleep>>,
}

impl Stream for DeadlineStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.body.borrow_mut();
        let BodyState::Reading(payload) = &mut *body else {
            return Poll::Ready(None);
        };
        match Pin::new(payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => return Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(end) => {
                *body = BodyState::Ended;
                return Poll::Ready(end);
            }
            Poll::Pending => {}
        }
        drop(body);
        if self.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let mut body = self.body.borrow_mut();
        if let BodyState::Reading(payload) = std::mem::replace(&mut *body, BodyState::Ended) {
            *body = BodyState::TimedOut(payload);
        }
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "request body timed out",
        )))))
    }
}

/// An answer that keeps the request's unread body alive until it is sent, so that actix-http
/// closes the connection after it instead of waiting on (draining) the rest of the body.
struct ClosingBody {
    answer: BoxBody,
    #[allow(dead_code)] // held, never read: its drop is the point
    unread: Payload,
}

impl ClosingBody {
    fn boxed(answer: impl MessageBody + 'static, unread: Payload) -> BoxBody {
        BoxBody::new(ClosingBody {
            answer: BoxBody::new(answer),
            unread,
        })
    }
}

impl MessageBody for ClosingBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.answer.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.answer).poll_next(cx)
    }
}
