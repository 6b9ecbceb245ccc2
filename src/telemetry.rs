//! Logging: `tracing` to stdout, filtered by `RUST_LOG` (default `info`), one span per request
//! carrying its request id, which is also returned in the `X-Request-Id` header.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

/// The span of one request. It names the client by the TCP peer, the address the sign-in limits
/// count by too, never by `Forwarded` or `X-Forwarded-For`: any client can write those headers,
/// and a log that believes them records whatever address an attacker chose. (Behind a reverse
/// proxy the peer is the proxy; its own access log has the client's address.) Host and scheme,
/// which tracing-actix-web also reads from those headers, are left out for the same reason.
pub struct PeerSpan;

impl RootSpanBuilder for PeerSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = request.method().as_str();
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let peer = request.peer_addr().map(|addr| addr.to_string()).unwrap_or_default();
        let user_agent =
            request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let request_id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.target = %logged_target(request.uri().path_and_query().map_or("", |p| p.as_str())),
            http.user_agent = %user_agent,
            peer_addr = %peer,
            request_id = %request_id.map(|id| id.to_string()).unwrap_or_default(),
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        // Records the status and any error into the fields declared above.
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Where the calendar feed is served: the rest of the path is the feed's secret token.
const CALENDAR_FEED_PATH: &str = "/v1/calendar/";
/// Where an introduction's emailed link opens: the rest of the path is a single-purpose token.
const INTRODUCTION_LINK_PATH: &str = "/v1/introduction-links/";

/// The request target as logged: a calendar feed's token is a credential in the path (calendar
/// apps can send nothing else), so it never reaches the log.
fn logged_target(target: &str) -> &str {
    if target.starts_with(CALENDAR_FEED_PATH) {
        "/v1/calendar/[redacted]"
    } else if target.starts_with(INTRODUCTION_LINK_PATH) {
        "/v1/introduction-links/[redacted]"
    } else {
        target
    }
}

/// Installs the global subscriber; later calls (tests start many apps) are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log written to a file or a collector stays plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// Copies the request id that `TracingLogger` assigned into the response's `X-Request-Id`.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req.extensions().get::<RequestId>().copied();
    let mut response = next.call(req).await?;
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use actix_web::test::TestRequest;
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    use super::*;

    /// Keeps the fields of every span created while it is the subscriber.
    #[derive(Clone, Default)]
    struct Fields(Arc<Mutex<HashMap<String, String>>>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.lock().unwrap().insert(field.name().to_owned(), format!("{value:?}"));
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Fields {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::Id,
            _: Context<'_, S>,
        ) {
            attrs.record(&mut self.clone());
        }
    }

    #[test]
    fn the_request_span_names_the_tcp_peer_not_a_forwarded_header() {
        let fields = Fields::default();
        let subscriber = tracing_subscriber::registry().with(fields.clone());
        let request = TestRequest::get()
            .uri("/v1/me")
            .peer_addr("10.1.2.3:4567".parse().unwrap())
            .insert_header(("Forwarded", "for=6.6.6.6"))
            .insert_header(("X-Forwarded-For", "6.6.6.6"))
            .insert_header(("X-Real-IP", "6.6.6.6"))
            .to_srv_request();
        tracing::subscriber::with_default(subscriber, || {
            let _span = PeerSpan::on_request_start(&request);
        });
        let fields = fields.0.lock().unwrap();
        assert_eq!(fields.get("peer_addr").map(String::as_str), Some("10.1.2.3:4567"));
        assert_eq!(fields.get("http.target").map(String::as_str), Some("/v1/me"));
        let logged: Vec<_> = fields.iter().filter(|(_, v)| v.contains("6.6.6.6")).collect();
        assert!(logged.is_empty(), "a forwarded address reached the log: {logged:?}");
    }

    #[test]
    fn a_calendar_feed_token_never_reaches_the_log() {
        let fields = Fields::default();
        let subscriber = tracing_subscriber::registry().with(fields.clone());
        let request = TestRequest::get().uri("/v1/calendar/0123abcdef.ics?x=1").to_srv_request();
        tracing::subscriber::with_default(subscriber, || {
            let _span = PeerSpan::on_request_start(&request);
        });
        let fields = fields.0.lock().unwrap();
        assert_eq!(fields.get("http.target").map(String::as_str), Some("/v1/calendar/[redacted]"));
        assert!(!fields.values().any(|v| v.contains("0123abcdef")), "{fields:?}");
    }
}
