//! An async function as a response body: it sends chunks with [`Sender::send`], and each is
//! handed to actix as the body's next item. What `async-stream` does, in the few lines this
//! server needs.
//!
//! Why not a spawned task and a channel: the body *is* the stream's loop, so when actix drops
//! the body (the client left, or the server is done with the connection) the loop is dropped
//! with it, and everything it holds (its `--max-waiters` slot, its notifications) is given
//! back at once, with no task left waiting to notice.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use futures_util::Stream;

/// The body: the loop, and the chunk it has just sent.
pub struct EventBody {
    sent: Rc<Cell<Option<Bytes>>>,
    driver: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

impl std::fmt::Debug for EventBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBody")
            .field("ended", &self.driver.is_none())
            .finish_non_exhaustive()
    }
}

/// How the loop sends a chunk.
pub struct Sender {
    sent: Rc<Cell<Option<Bytes>>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl EventBody {
    /// The body whose chunks `driver` sends through the [`Sender`] it is given; it ends when
    /// `driver` returns.
    pub fn new<F: Future<Output = ()> + 'static>(driver: impl FnOnce(Sender) -> F) -> Self {
        let sent = Rc::new(Cell::new(None));
        let driver = driver(Sender {
            sent: Rc::clone(&sent),
        });
        EventBody {
            sent,
            driver: Some(Box::pin(driver)),
        }
    }
}

impl Sender {
    /// Hands `chunk` to the body, and resumes when actix asks for the next one (after
    /// writing this one to its buffer).
    pub async fn send(&self, chunk: Bytes) {
        self.sent.set(Some(chunk));
        HandedOver(false).await;
    }
}

/// Pending once, without a wake-up: the body returns the chunk instead, and is polled again
/// when actix wants more, which resumes the loop.
struct HandedOver(bool);

impl Future for HandedOver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

impl Stream for EventBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(driver) = self.driver.as_mut() else {
            return Poll::Ready(None);
        };
        match driver.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.driver = None;
                Poll::Ready(self.sent.take().map(Ok))
            }
            Poll::Pending => match self.sent.take() {
                Some(chunk) => Poll::Ready(Some(Ok(chunk))),
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;

    #[actix_web::test]
    async fn the_chunks_sent_are_the_bodys_items_in_order_and_it_ends_with_the_loop() {
        let body = EventBody::new(|sender| async move {
            sender.send(Bytes::from_static(b"one")).await;
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            sender.send(Bytes::from_static(b"two")).await;
            sender.send(Bytes::from_static(b"three")).await;
        });
        let items: Vec<Bytes> = body.map(|item| item.unwrap()).collect().await;
        assert_eq!(items, ["one", "two", "three"]);
    }

    #[actix_web::test]
    async fn dropping_the_body_drops_the_loop_and_what_it_holds() {
        let held = Rc::new(());
        let body = EventBody::new({
            let held = Rc::clone(&held);
            |sender| async move {
                let _held = held;
                sender.send(Bytes::from_static(b"first")).await;
                std::future::pending::<()>().await;
            }
        });
        let mut body = Box::pin(body);
        assert_eq!(body.next().await.unwrap().unwrap(), "first");
        assert_eq!(Rc::strong_count(&held), 2, "the loop holds it");
        drop(body);
        assert_eq!(Rc::strong_count(&held), 1, "given back with the body");
    }
}
