//! Cross-origin calls from web apps (CORS), for the origins in `HALLWAY_CORS_ORIGINS` only.
//!
//! Tokens travel in the `Authorization` header, never in cookies, so no credentials are allowed.
//! A request from another origin is answered as usual without CORS headers (the browser then
//! keeps the answer from the page); a preflight from another origin is refused.

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::Condition;

/// How long a browser may reuse a preflight's answer.
pub const PREFLIGHT_MAX_AGE_SECS: usize = 3600;

/// The CORS middleware for `origins`; off when there are none.
pub fn cors(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static("x-request-id")])
        .max_age(PREFLIGHT_MAX_AGE_SECS)
        // Same-origin requests (the docs page) carry an `Origin` too: never refuse them.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin().send_wildcard()
        } else {
            cors.allowed_origin(origin)
        };
    }
    Condition::new(!origins.is_empty(), cors)
}
