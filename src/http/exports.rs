//! My connections as files: vCard 4.0 (all of them, or one) and CSV. Each holds only what each
//! contact shares with me now; deleted connections and people who deleted their account are
//! never in them. The whole-address-book files are written a page at a time.

use std::sync::Arc;

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};

use super::AuthUser;
use super::stream;
use crate::db::Db;
use crate::domain::contacts::{self, Contact, Owner};
use crate::domain::vcard;
use crate::error::{Problem, Result};
use crate::startup::AppState;

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const CSV_MEDIA_TYPE: &str = "text/csv; charset=utf-8; header=present";

/// Where the page after a chunk starts, and whether the chunk is the first.
struct Cursor {
    db: Db,
    owner: Arc<Owner>,
    after: Option<String>,
    first: bool,
}

/// The next page of contacts after `cursor`, and the cursor after it; `None` past the last page
/// (the first page is always read, so that an empty CSV still has its header).
async fn next_page(cursor: Cursor) -> Result<Option<(Vec<Contact>, Cursor)>> {
    let Cursor { db, owner, after, first } = cursor;
    let reader = owner.clone();
    let from = after.clone();
    let page =
        db.read(move |conn| contacts::page(conn, &reader, from.as_deref(), contacts::PAGE)).await?;
    if page.is_empty() && !first {
        return Ok(None);
    }
    let after = page.last().map(|c| c.connection.id.clone()).or(after);
    Ok(Some((page, Cursor { db, owner, after, first: false })))
}

async fn start(state: &web::Data<AppState>, user: AuthUser) -> Result<Cursor> {
    state.limits.contact_export(&user.account_id).await?;
    let owner = state.db.read(move |conn| Owner::of(conn, &user.account_id)).await?;
    Ok(Cursor { db: state.db.clone(), owner: Arc::new(owner), after: None, first: true })
}

fn attachment(name: &str) -> (actix_web::http::header::HeaderName, String) {
    (CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
}

/// All my connections, across my events, as one vCard 4.0 file (RFC 6350).
///
/// One card per connection (`UID` is the connection's id, stable across exports): the other
/// person's name, and their email, phone, company (`ORG`), headline (`TITLE`), bio (`NOTE`) and
/// links (`URL`) only when they share them with me now; my tags as `CATEGORIES`. UTF-8; text
/// escaped and lines folded at 75 octets as the RFC says. 30 such exports (vCard or CSV) an hour
/// per person.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The vCard file (empty when I have no connections).", content_type = "text/vcard", body = String),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 address-book exports in an hour (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/me/connections.vcf")]
pub async fn connections_vcf(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let cursor = start(&state, user).await?;
    let body = stream::chunks(cursor, |cursor| async move {
        Ok(next_page(cursor).await?.map(|(page, cursor)| {
            let mut out = String::with_capacity(page.len() * 400);
            for contact in &page {
                contacts::push_vcard(&mut out, contact);
            }
            (Bytes::from(out), cursor)
        }))
    });
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, vcard::MEDIA_TYPE))
        .insert_header(attachment("hallway-connections.vcf"))
        .streaming(body))
}

/// All my connections, across my events, as CSV (RFC 4180).
///
/// UTF-8 without a byte-order mark, CRLF line ends, a header row. Columns: `connection_id`,
/// `event_id`, `event_name`, `attendee_id`, `name`, `email`, `phone`, `company`, `headline`,
/// `bio`, `links` (one `label url` a line), `can_talk_about`, `want_to_learn`, `tags` (one a
/// line), `rating`, `first_met_at`, `last_met_at` (RFC 3339), `scan_count`, `note_count`,
/// `follow_up` (my next open follow-up: its note, or its kind such as `check in` when it has
/// none), `follow_up_due_at` (its due date, or date-time in UTC). A field the other person does
/// not share is empty.
///
/// **Formula injection**: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
/// is written with a leading `'`, so that a spreadsheet shows it as text instead of running it
/// (a phone number `+1 555 0100` reads `'+1 555 0100`). 30 such exports (vCard or CSV) an hour
/// per person.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The CSV file.", content_type = "text/csv", body = String),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 address-book exports in an hour (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/me/connections.csv")]
pub async fn connections_csv(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let cursor = start(&state, user).await?;
    let body = stream::chunks(cursor, |cursor| async move {
        let header = cursor.first;
        let Some((page, cursor)) = next_page(cursor).await? else { return Ok(None) };
        let rows = contacts::csv(&page, header)?;
        Ok(Some((Bytes::from(rows), cursor)))
    });
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, CSV_MEDIA_TYPE))
        .insert_header(attachment("hallway-connections.csv"))
        .streaming(body))
}

/// One of my connections as a vCard 4.0 file, with what the other person shares with me now.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    responses(
        (status = 200, description = "The vCard file of one card.", content_type = "text/vcard", body = String),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no such connection of theirs (`connection_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}.vcf")]
pub async fn connection_vcf(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let contact =
        state.db.read(move |conn| contacts::one(conn, &event_id, &user.account_id, &id)).await?;
    let mut out = String::new();
    contacts::push_vcard(&mut out, &contact);
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, vcard::MEDIA_TYPE))
        .insert_header(attachment(&format!("{}.vcf", contact.connection.id)))
        .body(out))
}
