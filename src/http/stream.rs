//! Response bodies written a chunk at a time, each chunk read by its own database call, so that a
//! large export holds one page in memory, never the whole answer.

use std::future::Future;

use actix_web::web::Bytes;
use futures_util::stream::{self, Stream};

use crate::error::Error;

/// A body of the chunks that `next` makes from its state, until it answers `None`. A failure
/// after the head was sent cannot become an error answer: it is logged and the body ends early
/// (the client sees a truncated transfer, not a complete file).
pub fn chunks<S, F, Fut>(state: S, mut next: F) -> impl Stream<Item = Result<Bytes, Error>>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Result<Option<(Bytes, S)>, Error>>,
{
    stream::unfold(Some(state), move |state| {
        let step = state.map(&mut next);
        async move {
            match step?.await {
                Ok(Some((bytes, state))) => Some((Ok(bytes), Some(state))),
                Ok(None) => None,
                Err(error) => {
                    tracing::error!(error = ?error, "a streamed answer failed part-way");
                    Some((Err(error), None))
                }
            }
        }
    })
}
