//! Reading a raw request body up to a limit, for endpoints that take more than `MAX_JSON_BODY`.

use actix_web::http::StatusCode;
use actix_web::web;
use futures_util::StreamExt;

use crate::error::{Error, Result};

pub async fn read(mut payload: web::Payload, limit: usize) -> Result<web::Bytes> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Error::bad_request("invalid_body", format!("The body could not be read: {e}."))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
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
