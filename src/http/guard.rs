//! Middleware that runs before any route: refuses URLs carrying control characters, and sets the
//! headers every answer needs.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::error::{Error, ErrorCode};

/// A path or query string that decodes to a control character (NUL among them) names nothing:
/// no id, slug or cursor Hallway makes contains one. Refused here, before any handler, so that
/// both backends answer alike (PostgreSQL cannot even compare a NUL, SQLite would look it up).
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = if decodes_to_control(req.path()) {
        Some(Error::not_found(
            ErrorCode::RouteNotFound,
            "The path holds a control character: no resource is named so.",
        ))
    } else if decodes_to_control(req.query_string()) {
        Some(Error::bad_request(
            ErrorCode::InvalidQuery,
            "The query string holds a control character, which no parameter accepts.",
        ))
    } else {
        None
    };
    if let Some(error) = refusal {
        let (req, _) = req.into_parts();
        let response = actix_web::ResponseError::error_response(&error);
        return Ok(ServiceResponse::new(req, response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Answers are personal (tokens, profiles, notes): no shared cache may keep them unless a route
/// says otherwise, and no browser may guess their type.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// Whether percent-decoding `raw` yields a control byte (raw control bytes never reach here:
/// the HTTP parser refuses them).
fn decodes_to_control(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if byte < 0x20 || byte == 0x7f {
                    return true;
                }
                i += 3;
                continue;
            }
        }
        if bytes[i] < 0x20 || bytes[i] == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::decodes_to_control;

    #[test]
    fn encoded_control_bytes_are_found_and_plain_text_passes() {
        assert!(decodes_to_control("/v1/events/a%00b"));
        assert!(decodes_to_control("cursor=%0d%0A"));
        assert!(decodes_to_control("x=%7F"));
        assert!(decodes_to_control("x=%1f"));
        assert!(!decodes_to_control("/v1/events/0193a3c4-7b1e-7000-8000-000000000000"));
        assert!(!decodes_to_control("topic=caf%C3%A9&paper=a4"));
        assert!(!decodes_to_control("x=%"));
        assert!(!decodes_to_control("x=%2"));
        assert!(!decodes_to_control("x=%zz"));
    }
}
