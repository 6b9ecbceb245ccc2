//! The HTTP layer: routes, extractors, request and response types, OpenAPI annotations.
//!
//! Handlers are short: extract, parse into domain types, call the domain inside one database
//! transaction, shape the response. The route table is [`routes`]; the OpenAPI document is generated
//! from the same table, so the two cannot drift apart.

mod accounts;
mod allowed;
mod attendees;
mod auth;
mod badges;
mod body;
mod calendar;
mod connections;
mod contract;
mod cors;
mod csv_import;
mod events;
pub mod examples;
mod exports;
mod extractors;
mod follow_ups;
mod guard;
mod introduction_links;
mod introductions;
mod leases;
mod limits;
mod my_data;
mod ops;
mod organizing;
mod pagination;
mod people;
mod profiles;
mod promises;
mod prompts;
mod queue;
mod rate_limit;
mod response_examples;
mod scans;
mod starters;
mod stream;
mod topics;
mod touches;
mod whole;

use actix_web::{App, HttpRequest, HttpResponse, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{Error, ErrorCode};

pub use body::body_deadline;
pub use cors::cors;
pub use extractors::{AuthUser, ClientIp, Json, TokenUser};
pub use guard::{refuse_control_characters, security_headers};
pub use limits::Limits;
pub use rate_limit::{Buckets, WriteLimits, starter_limits};

/// The largest JSON body accepted, in bytes.
pub const MAX_JSON_BODY: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hallway API",
        description = "The backend of conference networking apps: badge exchange, conversation starters, \
                       follow-ups and introductions.\n\nErrors are RFC 9457 `application/problem+json` documents \
                       with a stable `code`. Times are RFC 3339 in UTC. Lists use cursor pagination \
                       (`limit`, `cursor` → `next_cursor`).\n\nOn SQLite \
                       every write goes through one writer with a bounded queue: when it is full, a write \
                       answers `503` with code `overloaded` and `Retry-After`; send it again then.",
        license(name = "MIT"),
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::error::FieldError, queue::QueueState)),
    tags(
        (name = "auth", description = "Passwordless sign-in with emailed codes; rotating refresh tokens."),
        (name = "account", description = "The signed-in person's own account."),
        (name = "events", description = "Events and the caller's role in them."),
        (name = "topics", description = "Interest topics seeded by organizers, with conversation prompts."),
        (name = "attendees", description = "Organizer tools: attendee import and list, join code, co-organizers, stats."),
        (name = "badges", description = "Badge codes and their QR codes; printable sheets; rotation."),
        (name = "profiles", description = "A person's profile in an event: details, topics, sharing, directory."),
        (name = "scans", description = "Badge exchange: scans online or offline, each recorded once."),
        (name = "connections", description = "The caller's connections: shared details, notes, tags, rating, cadence; delta sync."),
        (name = "calendar", description = "A secret calendar-feed URL of my follow-ups, for calendar apps; rotated or revoked at will."),
        (name = "starters", description = "Conversation starters: open questions about the other person, ranked listening first; feedback; organizers' prompt statistics and settings."),
        (name = "follow-ups", description = "Promises and reminders on connections, the queue across events, touches and cadences."),
        (name = "introductions", description = "Introductions with double opt-in: two of my connections, a note to each, answered from emailed links or in the app; blocks."),
        (name = "operations", description = "Liveness and readiness probes."),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /v1/auth/tokens` or `/v1/auth/refresh`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers every route on `$cfg` in one order, with `$scope` for `/v1`: utoipa's to build
/// the OpenAPI document ([`routes`]), actix's to serve ([`serve_routes`]). One list for both.
macro_rules! every_route {
    ($cfg:expr, $scope:path) => {
        $cfg.service(ops::healthz).service(ops::readyz).service(
            // actix tries routes in this order, matching each pattern in turn: the busiest
            // come first.
            $scope("/v1")
                .service(scans::scan)
                .service(scans::scan_batch)
                .service(connections::list_connections)
                // Before `get_connection`, whose `{connection_id}` would also match `….vcf`.
                .service(exports::connection_vcf)
                .service(connections::get_connection)
                .service(auth::request_code)
                .service(auth::exchange_code)
                .service(auth::refresh)
                .service(auth::logout)
                .service(accounts::get_me)
                .service(accounts::patch_me)
                .service(accounts::delete_me)
                .service(events::create_event)
                .service(events::list_events)
                .service(events::get_event)
                .service(events::patch_event)
                .service(organizing::delete_event)
                .service(topics::seed_topics)
                .service(topics::list_topics)
                .service(attendees::import_attendees)
                .service(csv_import::import_attendees_csv)
                .service(attendees::list_attendees)
                .service(attendees::stats)
                .service(attendees::rotate_join_code)
                .service(attendees::disable_join_code)
                .service(attendees::join)
                .service(attendees::add_organizer)
                .service(organizing::remove_organizer)
                .service(organizing::remove_attendee)
                .service(organizing::resend_invitation)
                .service(badges::get_attendee_badge)
                .service(badges::get_attendee_badge_png)
                .service(badges::get_attendee_badge_svg)
                .service(badges::rotate_badge)
                .service(badges::badge_sheet)
                .service(profiles::get_my_profile)
                .service(profiles::patch_my_profile)
                .service(profiles::leave_event)
                .service(badges::get_my_badge)
                .service(badges::get_my_badge_png)
                .service(badges::get_my_badge_svg)
                .service(profiles::directory)
                .service(connections::patch_connection)
                .service(connections::delete_connection)
                .service(connections::add_note)
                .service(connections::list_notes)
                .service(exports::connections_vcf)
                .service(exports::connections_csv)
                .service(my_data::export_my_data)
                .service(calendar::create_feed)
                .service(calendar::feed_status)
                .service(calendar::revoke_feed)
                .service(calendar::feed)
                .service(starters::attendee_starters)
                .service(starters::connection_starters)
                .service(starters::starter_feedback)
                .service(prompts::prompt_stats)
                .service(prompts::get_prompt_settings)
                .service(prompts::put_prompt_settings)
                .service(follow_ups::create_follow_up)
                .service(follow_ups::list_follow_ups)
                .service(follow_ups::patch_follow_up)
                .service(touches::add_touch)
                .service(touches::list_touches)
                .service(queue::get_queue)
                .service(introductions::create_introduction)
                .service(introductions::my_introductions)
                .service(introductions::respond)
                .service(introductions::block)
                .service(introductions::unblock)
                .service(introduction_links::open_link)
                .service(introduction_links::answer_link)
                .service(people::people_to_meet)
                .service(people::dismiss)
                .service(people::suggestions)
                .service(people::network),
        )
    };
}

/// Every documented route, collected with their documentation (for [`openapi`]).
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    every_route!(cfg, scope::scope);
}

/// Every route, registered without their documentation: each HTTP worker calls this, and
/// collecting the documentation there would build the whole document again in every worker,
/// only to drop it (the document is built once, by [`openapi`]).
pub fn serve_routes(cfg: &mut web::ServiceConfig) {
    every_route!(cfg, web::scope);
}

/// The OpenAPI document, generated from [`routes`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api =
        App::new().into_utoipa_app().openapi(openapi_base()).configure(routes).split_for_parts().1;
    document_write_refusals(&mut api);
    body::document_body_timeout(&mut api);
    contract::refine(api)
}

/// On SQLite any write can be refused with 503 (see `db::writer`): every POST, PUT, PATCH and
/// DELETE, and the GETs of starters (a first view records them), list that answer, in one place
/// rather than in each route's annotations.
fn document_write_refusals(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::PartialSchema;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, header::HeaderBuilder};

    let refused = ResponseBuilder::new()
        .description(
            "SQLite only: too many writes are waiting (`overloaded`; see `Retry-After`), or the \
             database takes no writes (`database_unavailable`).",
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(u64::schema()))
                .description(Some("Seconds to wait (with `overloaded`)."))
                .build(),
        )
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        let mut writes: Vec<_> = [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
            .into_iter()
            .flatten()
            .collect();
        // A first view of a pair's starters records them: the one GET that writes.
        if path.ends_with("/starters") {
            writes.extend(item.get.as_mut());
        }
        for operation in writes {
            operation
                .responses
                .responses
                .entry("503".to_owned())
                .or_insert_with(|| refused.clone().into());
        }
    }
}

/// The document's parts that do not come from routes: info, tags, security schemes.
pub fn openapi_base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI document as committed in `openapi/hallway.json`.
pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default()
}

/// Everything around the routes: body limits and error shapes, the docs page (with `docs`:
/// development, or `HALLWAY_DOCS=true`), the OpenAPI document, the 404 answer.
///
/// `/openapi.json` is served in production too: it is the public contract of the API (the same
/// document as `openapi/hallway.json` in the repository) and holds no data. The docs page is a
/// browser application served from the API's origin: production serves only what clients need.
pub fn configure_extras(cfg: &mut web::ServiceConfig, published: Published, docs: bool) {
    cfg.app_data(extractors::json_config())
        .app_data(extractors::path_config())
        .app_data(extractors::query_config())
        .app_data(extractors::form_config());
    let document = published.document;
    cfg.route(
        "/openapi.json",
        web::get().to(move || {
            let document = document.clone();
            async move { HttpResponse::Ok().content_type("application/json").body(document) }
        }),
    );
    if docs {
        // The page reads the document from `/openapi.json`. No validator: the page never sends
        // the document to a third party.
        let config = utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none");
        cfg.service(SwaggerUi::new("/docs/{_:.*}").config(config));
        cfg.route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                    .finish()
            }),
        );
    }
    cfg.app_data(published.routes).default_service(web::to(not_found));
}

/// What every HTTP worker serves of the OpenAPI document, made once at start-up: its JSON, and
/// the methods each path allows. The document itself is not kept: as Rust values it is tens of
/// MiB of an idle server's heap (BENCHMARKS, issue 13), its JSON a few hundred KiB.
#[derive(Clone)]
pub struct Published {
    document: web::Bytes,
    routes: web::Data<allowed::Routes>,
}

impl Published {
    pub fn new(api: &utoipa::openapi::OpenApi) -> Self {
        Self {
            document: web::Bytes::from(api.to_json().unwrap_or_default()),
            routes: web::Data::new(allowed::Routes::from_document(api)),
        }
    }
}

/// No route answered: 405 with `Allow` when the path exists with other methods, else 404.
async fn not_found(
    req: HttpRequest,
    routes: web::Data<allowed::Routes>,
) -> Result<HttpResponse, Error> {
    let allow = routes.methods(req.path());
    // A path that has this method but that no route took (a malformed id) is not found.
    if !allow.is_empty() && !allow.contains(&req.method().as_str()) {
        return Err(Error::method_not_allowed(
            &allow,
            format!(
                "{} {} is not a route; this path takes {}.",
                req.method(),
                req.path(),
                allow.join(", ")
            ),
        ));
    }
    Err(Error::not_found(
        ErrorCode::RouteNotFound,
        format!("There is no route {} {}.", req.method(), req.path()),
    ))
}

#[cfg(test)]
mod tests {
    /// Every refusal an extractor can give is in the document: a JSON body can be malformed (400),
    /// too slow to arrive (408), too large (413) or of another media type (415); a query string
    /// can be malformed (400).
    #[test]
    fn every_operation_documents_the_refusals_of_its_extractors() {
        let document: serde_json::Value = serde_json::from_str(&super::openapi_json()).unwrap();
        let mut missing = Vec::new();
        for (path, operations) in document["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                let responses = &operation["responses"];
                let has_query = operation["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
                let mut wanted = Vec::new();
                if operation.get("requestBody").is_some() {
                    wanted.extend(["400", "408", "413", "415"]);
                }
                if has_query {
                    wanted.push("400");
                }
                for status in wanted {
                    if responses.get(status).is_none() {
                        missing.push(format!("{method} {path}: {status}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "undocumented refusals: {missing:#?}");
    }
}
