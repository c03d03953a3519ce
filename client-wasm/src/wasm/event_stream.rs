//! One streamed watch: the request sent through [`respond`], then its body read chunk by
//! chunk from the stream reader, decoded by the core's [`EventStream`] and handed on event
//! by event, until the server closes it or it must be cut.
//!
//! Each wait is bounded in time: the answer's head and its first event must come within
//! [`FIRST_EVENT_WITHIN`] of sending (a proxy that holds a stream back shows as silence from
//! the start, its head included: nginx compressing a stream sends nothing until its buffer
//! fills), then the silence two heartbeats may leave ([`silence_limit`]). Dropping the future
//! aborts the request.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult, Response};

use super::abort::AbortOnDrop;
use super::bodies::{answer_of, stream_event_of};
use super::body::settle_quietly;
use super::errors::thrown_text;
use super::fetch::{network, reply_of, respond, timer_ms, Outgoing, RequestSetup};
use super::globals::now;
use crate::answer::{Answer, ReplyHints};
use crate::stream::{
    silence_limit, EventStream, StreamEvent, DEFAULT_HEARTBEAT, FIRST_EVENT_WITHIN,
};
use video_translation_protocol::stream::EVENT_STREAM_TYPE;

/// Sends the stream request `outgoing` and reads its events into `sink`, each with the cursor
/// it leaves. Returns how it ended: the server closed it, it broke or was cut, nothing came in
/// time, or the server answered it without a stream (its answer read as a watch's).
pub async fn watch_stream(
    outgoing: &Outgoing,
    setup: &RequestSetup,
    sink: &mut dyn FnMut(StreamEvent, Option<String>),
) -> Answer {
    let controller = match AbortOnDrop::new() {
        Ok(controller) => controller,
        Err(error) => return network(&error).into(),
    };
    let first_event_by = now() + FIRST_EVENT_WITHIN;
    let responding = pin!(respond(outgoing, setup, controller.signal()));
    let response = match select(responding, TimeoutFuture::new(timer_ms(FIRST_EVENT_WITHIN))).await
    {
        Either::Left((Ok(response), _)) => response,
        Either::Left((Err(error), _)) => return error.into(),
        // A server without streams answers at once; a head held back is a proxy's doing.
        Either::Right(_) => return Answer::StreamBuffered,
    };
    if !streams(&response) {
        return match reply_of(&response).await {
            Ok(reply) => answer_of(reply, true),
            Err(error) => error.into(),
        };
    }
    let Some(body) = response.body() else {
        return Answer::StreamClosed;
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let answer = read_events(&reader, first_event_by, sink).await;
    // Whatever ended the reading, the rest is not wanted (a no-op for a finished stream).
    settle_quietly(reader.cancel());
    answer
}

/// A 2xx answer with an event stream; anything else is read as a plain answer.
fn streams(response: &Response) -> bool {
    let content_type = response.headers().get("content-type").ok().flatten();
    (200..300).contains(&response.status())
        && content_type.is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case(EVENT_STREAM_TYPE))
        })
}

async fn read_events(
    reader: &ReadableStreamDefaultReader,
    first_event_by: Duration,
    sink: &mut dyn FnMut(StreamEvent, Option<String>),
) -> Answer {
    let mut decoder = EventStream::new();
    let mut messages = Vec::new();
    let mut heartbeat: Option<Duration> = None;
    loop {
        let limit = match heartbeat {
            Some(heartbeat) => silence_limit(heartbeat),
            None => first_event_by.saturating_sub(now()),
        };
        let reading = pin!(JsFuture::from(reader.read()));
        let chunk = match select(reading, TimeoutFuture::new(timer_ms(limit))).await {
            Either::Left((Ok(chunk), _)) => chunk.unchecked_into::<ReadableStreamReadResult>(),
            Either::Left((Err(error), _)) => return Answer::NetworkError(thrown_text(&error)),
            Either::Right(_) if heartbeat.is_none() => return Answer::StreamBuffered,
            Either::Right(_) => return Answer::TimedOut,
        };
        if chunk.get_done().unwrap_or(true) {
            return Answer::StreamClosed;
        }
        let chunk: Uint8Array = chunk.get_value().unchecked_into();
        if let Err(why) = decoder.feed(&chunk.to_vec(), &mut messages) {
            return Answer::Malformed(why);
        }
        for message in messages.drain(..) {
            match stream_event_of(&message) {
                Ok(Some(event)) => {
                    // Any event shows the stream flows; `open` says how long it may be quiet.
                    let beat = match &event {
                        StreamEvent::Open { heartbeat } => *heartbeat,
                        _ => heartbeat.unwrap_or(DEFAULT_HEARTBEAT),
                    };
                    heartbeat = Some(beat);
                    sink(event, message.cursor);
                }
                Ok(None) => {}
                Err(invalid) => return Answer::Watch(Err(invalid), ReplyHints::default()),
            }
        }
    }
}
