//! The rows of a streamed answer whose first row was read before the status line was sent (so a
//! database error there is answered as an error): that row, then the rest of the stream, which is
//! never polled again once it has ended (it would report a closed connection).

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc::Sender;
use tokio_postgres::{Error, Row};

/// A first row already read, then the rest of its stream.
pub struct AfterFirst<S> {
    first: Option<Row>,
    rest: Pin<Box<S>>,
    ended: bool,
}

impl<S: Stream<Item = Result<Row, Error>>> AfterFirst<S> {
    /// `first` is `None` when the stream had no row at all.
    pub fn new(first: Option<Row>, rest: Pin<Box<S>>) -> Self {
        let ended = first.is_none();
        Self { first, rest, ended }
    }

    /// The next row; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        if let Some(row) = self.first.take() {
            return Some(Ok(row));
        }
        if self.ended {
            return None;
        }
        let row = self.rest.next().await;
        self.ended = row.is_none();
        row
    }

    /// The next row of a streamed body, `Ok(None)` at its end. A database error is logged
    /// (naming `what` streamed) and ends the body sent through `sender` as broken: `Err(())`,
    /// and the caller stops.
    pub async fn next_or_break(
        &mut self,
        what: &str,
        sender: &Sender<Result<Bytes, std::io::Error>>,
    ) -> Result<Option<Row>, ()> {
        match self.next().await {
            None => Ok(None),
            Some(Ok(row)) => Ok(Some(row)),
            Some(Err(e)) => {
                // The database going away breaks every stream alike: logged as an outage, once.
                match crate::error::ApiError::from(e) {
                    crate::error::ApiError::Unavailable(cause) => {
                        crate::error::log_unavailable(&format!("{what} stream broken off: {cause}"));
                    }
                    crate::error::ApiError::Internal(detail) => {
                        tracing::error!(error = %detail, "{what} stream failed")
                    }
                    other => tracing::error!(error = %other, "{what} stream failed"),
                }
                let _ = sender.send(Err(std::io::Error::other("database error"))).await;
                Err(())
            }
        }
    }
}
