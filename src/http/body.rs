//! Request bodies: a deadline for receiving one, and reading a raw body up to a limit, for
//! endpoints that take more than `MAX_JSON_BODY`.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::{Stream, StreamExt};

use crate::error::{Error, ErrorCode, Result};
use crate::startup::AppState;

/// Bounds the time a client may take to send its request body (`HALLWAY_BODY_TIMEOUT_MS`), counted
/// from when its head has arrived: a client that trickles a body — or announces more than it sends —
/// no longer holds a connection and the request's memory for ever. Whatever extractor was reading
/// the body (JSON, a raw import), the answer is `408 request_timeout`, and the connection closes.
/// (Request heads have their own bound: actix's `client_request_timeout`, set in `startup`.)
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> std::result::Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timeout = req.app_data::<web::Data<AppState>>().map(|state| state.config.body_timeout);
    let payload = req.take_payload();
    let (Some(timeout), false) = (timeout, matches!(payload, Payload::None)) else {
        req.set_payload(payload);
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let expired = Rc::new(Cell::new(false));
    let deadline = Deadline {
        inner: payload,
        timer: Box::pin(tokio::time::sleep(timeout)),
        expired: expired.clone(),
        finished: false,
    };
    req.set_payload(Payload::from(Box::pin(deadline) as Pin<Box<dyn Stream<Item = _>>>));
    let response = next.call(req).await?;
    if !expired.get() {
        return Ok(response.map_into_boxed_body());
    }
    let mut answer = timed_out(timeout).error_response();
    // The rest of the body may still be on its way: do not read it to reuse the connection.
    answer.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(response.into_parts().0, answer))
}

/// Every operation that takes a body lists the `408` of [`body_deadline`], in one place rather
/// than in each route's annotations.
pub fn document_body_timeout(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

    let timed_out = ResponseBuilder::new()
        .description(
            "The body did not arrive within `HALLWAY_BODY_TIMEOUT_MS` (`request_timeout`); the \
             connection is closed.",
        )
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build();
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            if operation.request_body.is_some() {
                operation
                    .responses
                    .responses
                    .entry("408".to_owned())
                    .or_insert_with(|| timed_out.clone().into());
            }
        }
    }
}

fn timed_out(timeout: Duration) -> Error {
    Error::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestTimeout,
        format!("The request body did not arrive within {} ms.", timeout.as_millis()),
    )
}

/// A request body that fails once its deadline has passed, and says so through `expired`.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    expired: Rc<Cell<bool>>,
    finished: bool,
}

impl Stream for Deadline {
    type Item = std::result::Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            self.finished = item.is_none();
            return Poll::Ready(item);
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.finished = true;
        self.expired.set(true);
        let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timed out");
        Poll::Ready(Some(Err(PayloadError::Io(error))))
    }
}

pub async fn read(mut payload: web::Payload, limit: usize) -> Result<web::Bytes> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Error::bad_request(ErrorCode::InvalidBody, format!("The body could not be read: {e}."))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("The body is larger than the limit of {limit} bytes."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The media type of a request, lower-cased, without parameters.
pub fn media_type(req: &actix_web::HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}
