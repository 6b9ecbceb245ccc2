//! `GET /v1/me/export`: everything Hallway holds about me as one JSON document, written a page at
//! a time (see `stream`), so that memory stays flat whatever the number of connections and notes.

use std::collections::VecDeque;
use std::sync::Arc;

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};

use super::connections::{ConnectionSummaryResponse, NoteResponse};
use super::follow_ups::FollowUpResponse;
use super::rate_limit::Slot;
use super::touches::TouchResponse;
use super::{AuthUser, stream};
use crate::db::Db;
use crate::domain::connections::ConnectionSummary;
use crate::domain::follow_ups::{FollowUpView, dates};
use crate::domain::my_data::{self, Gone, GoneKind};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

mod document;

pub use document::{ExportHead, MyDataExport};
use document::{ExportedConnection, ExportedTombstone};

/// Connections per page read; notes per chunk read (a chunk may span several connections).
const CONNECTION_PAGE: i64 = 200;
const NOTE_CHUNK: i64 = 1_000;
/// Tombstones per page read.
const TOMBSTONE_PAGE: i64 = 500;
/// Follow-ups and touches per page read.
const FOLLOW_UP_PAGE: i64 = 500;

/// The export's progress between chunks.
struct Export {
    db: Db,
    account_id: Arc<str>,
    /// The person's time zone, for the follow-ups' days.
    tz: chrono_tz::Tz,
    owners: Arc<Vec<String>>,
    stage: Stage,
    /// Items written so far in the current array (a comma goes before every later one).
    written: usize,
    /// The person's one export at a time, given back when the body ends or is dropped.
    _slot: Slot,
}

enum Stage {
    /// With no page: read the page after `after`. With a page: write its next chunk of notes.
    Connections {
        after: Option<String>,
        page: Option<Page>,
    },
    Tombstones {
        kind: GoneKind,
        after: Option<String>,
    },
    FollowUps {
        after: Option<String>,
    },
    Touches {
        after: Option<String>,
    },
    Done,
}

/// A page of connections being written: those not yet written, the one whose `notes` array is
/// open, and where the next chunk of notes starts.
struct Page {
    waiting: VecDeque<ConnectionSummary>,
    ids: Arc<Vec<String>>,
    open: Option<(String, usize)>,
    notes_after: Option<(String, String)>,
}

/// Everything Hallway holds about me, as one JSON document (schema `MyDataExport`).
///
/// Account (with my time zone and digest settings), sign-in history still kept (sessions, codes
/// asked for and wrong codes tried, without the codes), memberships with role, event profile,
/// topics and badge codes, whether a calendar feed exists (never its token), mail to me still in
/// the outbox (never a sign-in code), every connection with all my notes, tags, rating, cadence
/// and next follow-up (the other person as they share themselves with me now), the tombstones I
/// keep, all my follow-ups in every state (with when and how the done ones were done, and their
/// origin) and every touch I logged. Streamed: the document is written a page at a time; a
/// failure part-way ends the transfer early, leaving invalid JSON.
///
/// One export at a time per person, and 3 an hour; beyond, `429 rate_limited` with
/// `Retry-After`.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The whole document.", body = MyDataExport),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "An export of mine is being written, or I asked for 3 in the last hour (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/me/export")]
pub async fn export_my_data(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let slot = state.limits.data_export(&user.account_id).await?;
    let account_id: Arc<str> = Arc::from(user.account_id.as_str());
    let head = state.db.read(move |conn| my_data::head(conn, &user.account_id)).await?;
    let owners = Arc::new(head.owners.clone());
    let tz = dates::zone(&head.account.time_zone);
    let mut first = serde_json::to_vec(&ExportHead::from(head)).map_err(Error::internal)?;
    // `{…}` becomes `{…,"connections":[`: the head's fields come from the same type the
    // OpenAPI document shows.
    first.pop();
    first.extend_from_slice(b",\"connections\":[");
    let job = Export {
        db: state.db.clone(),
        account_id,
        tz,
        owners,
        stage: Stage::Connections { after: None, page: None },
        written: 0,
        _slot: slot,
    };
    let body = stream::chunks((Some(Bytes::from(first)), job), |(first, job)| async move {
        if let Some(first) = first {
            return Ok(Some((first, (None, job))));
        }
        Ok(step(job).await?.map(|(bytes, job)| (bytes, (None, job))))
    });
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CONTENT_DISPOSITION, "attachment; filename=\"hallway-export.json\""))
        .streaming(body))
}

/// Writes the next chunk; `None` once the document is complete.
async fn step(mut job: Export) -> Result<Option<(Bytes, Export)>> {
    let mut out = Vec::new();
    match std::mem::replace(&mut job.stage, Stage::Done) {
        Stage::Connections { after, page: None } => {
            let owners = job.owners.clone();
            let from = after.clone();
            let found = job
                .db
                .read(move |conn| {
                    my_data::connections(conn, &owners, from.as_deref(), CONNECTION_PAGE)
                })
                .await?;
            if found.is_empty() {
                out.extend_from_slice(b"],\"connection_tombstones\":[");
                job.written = 0;
                job.stage = Stage::Tombstones { kind: GoneKind::DeletedByMe, after: None };
            } else {
                let ids = Arc::new(found.iter().map(|s| s.connection.id.clone()).collect());
                let page = Page { waiting: found.into(), ids, open: None, notes_after: None };
                job.stage = Stage::Connections { after, page: Some(page) };
            }
        }
        Stage::Connections { page: Some(mut page), .. } => {
            let ids = page.ids.clone();
            let from = page.notes_after.clone();
            let notes = job
                .db
                .read(move |conn| {
                    let from = from.as_ref().map(|(c, n)| (c.as_str(), n.as_str()));
                    my_data::notes(conn, &ids, from, NOTE_CHUNK)
                })
                .await?;
            let complete = notes.len() < usize::try_from(NOTE_CHUNK).unwrap_or(usize::MAX);
            for note in notes {
                if page.open.as_ref().is_none_or(|(id, _)| *id != note.connection_id) {
                    close(&mut out, &mut page.open);
                    // Connections without notes before this one are written whole.
                    while page.waiting.front().is_some_and(|s| s.connection.id < note.connection_id)
                    {
                        if let Some(summary) = page.waiting.pop_front() {
                            open(&mut out, &mut job.written, summary)?;
                            out.extend_from_slice(b"]}");
                        }
                    }
                    if let Some(summary) = page.waiting.pop_front() {
                        page.open = Some((summary.connection.id.clone(), 0));
                        open(&mut out, &mut job.written, summary)?;
                    }
                }
                if let Some((_, count)) = page.open.as_mut() {
                    if *count > 0 {
                        out.push(b',');
                    }
                    *count += 1;
                }
                page.notes_after = Some((note.connection_id.clone(), note.id.clone()));
                serde_json::to_writer(&mut out, &NoteResponse::from(note))
                    .map_err(Error::internal)?;
            }
            if complete {
                close(&mut out, &mut page.open);
                while let Some(summary) = page.waiting.pop_front() {
                    open(&mut out, &mut job.written, summary)?;
                    out.extend_from_slice(b"]}");
                }
                let after = page.ids.last().cloned();
                job.stage = Stage::Connections { after, page: None };
            } else {
                job.stage = Stage::Connections { after: None, page: Some(page) };
            }
        }
        Stage::Tombstones { kind, after } => {
            let owners = job.owners.clone();
            let from = after.clone();
            let found = job
                .db
                .read(move |conn| {
                    my_data::tombstones(conn, &owners, kind, from.as_deref(), TOMBSTONE_PAGE)
                })
                .await?;
            let last = found.last().map(|gone| gone.id().to_owned());
            for gone in found {
                push(&mut out, &mut job.written, &ExportedTombstone::from(gone))?;
            }
            job.stage = match (last, kind) {
                (Some(last), kind) => Stage::Tombstones { kind, after: Some(last) },
                (None, GoneKind::DeletedByMe) => {
                    Stage::Tombstones { kind: GoneKind::AccountDeleted, after: None }
                }
                (None, GoneKind::AccountDeleted) => {
                    out.extend_from_slice(b"],\"follow_ups\":[");
                    job.written = 0;
                    Stage::FollowUps { after: None }
                }
            };
        }
        Stage::FollowUps { after } => {
            let account_id = job.account_id.clone();
            let found = job
                .db
                .read(move |conn| {
                    my_data::follow_ups(conn, &account_id, after.as_deref(), FOLLOW_UP_PAGE)
                })
                .await?;
            let last = found.last().map(|f| f.id.clone());
            let now = crate::db::now();
            for row in found {
                let item = FollowUpResponse::new(FollowUpView::new(row, job.tz), now);
                push(&mut out, &mut job.written, &item)?;
            }
            job.stage = match last {
                Some(last) => Stage::FollowUps { after: Some(last) },
                None => {
                    out.extend_from_slice(b"],\"touches\":[");
                    job.written = 0;
                    Stage::Touches { after: None }
                }
            };
        }
        Stage::Touches { after } => {
            let account_id = job.account_id.clone();
            let found = job
                .db
                .read(move |conn| {
                    my_data::touches(conn, &account_id, after.as_deref(), FOLLOW_UP_PAGE)
                })
                .await?;
            let last = found.last().map(|t| t.id.clone());
            for touch in found {
                push(&mut out, &mut job.written, &TouchResponse::from(touch))?;
            }
            job.stage = match last {
                Some(last) => Stage::Touches { after: Some(last) },
                None => {
                    out.extend_from_slice(b"]}");
                    Stage::Done
                }
            };
        }
        Stage::Done => return Ok(None),
    }
    Ok(Some((Bytes::from(out), job)))
}

/// Writes one more item of the array being written.
fn push(out: &mut Vec<u8>, written: &mut usize, item: &impl serde::Serialize) -> Result<()> {
    if *written > 0 {
        out.push(b',');
    }
    *written += 1;
    serde_json::to_writer(out, item).map_err(Error::internal)
}

/// Writes a connection up to the opening of its `notes` array: `{…,"notes":[`.
fn open(out: &mut Vec<u8>, written: &mut usize, summary: ConnectionSummary) -> Result<()> {
    if *written > 0 {
        out.push(b',');
    }
    *written += 1;
    let connection = ExportedConnection {
        connection: ConnectionSummaryResponse::from(summary),
        notes: Vec::new(),
    };
    out.extend_from_slice(&document::opened(&connection)?);
    Ok(())
}

fn close(out: &mut Vec<u8>, open: &mut Option<(String, usize)>) {
    if open.take().is_some() {
        out.extend_from_slice(b"]}");
    }
}

impl From<Gone> for ExportedTombstone {
    fn from(gone: Gone) -> Self {
        match gone {
            Gone::DeletedByMe(c) => Self {
                connection_id: c.id,
                event_id: c.event_id,
                other_attendee_id: c.other_id,
                first_met_at: c.first_met_at.and_utc(),
                last_met_at: c.last_met_at.and_utc(),
                scan_count: c.scan_count,
                deleted_at: c.deleted_at.unwrap_or(c.updated_at).and_utc(),
                reason: "deleted_by_me",
            },
            Gone::AccountDeleted(t) => Self {
                connection_id: t.connection_id,
                event_id: t.event_id,
                other_attendee_id: t.other_id,
                first_met_at: t.first_met_at.and_utc(),
                last_met_at: t.last_met_at.and_utc(),
                scan_count: t.scan_count,
                deleted_at: t.deleted_at.and_utc(),
                reason: "account_deleted",
            },
        }
    }
}
