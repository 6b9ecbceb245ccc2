//! The export's JSON document: its schema for the OpenAPI document, and the pieces the stream
//! writes (the head, each connection's opening) made from the same types, so they cannot differ.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::accounts::DigestFrequency;
use super::super::calendar::FeedStatusResponse;
use super::super::connections::{ConnectionSummaryResponse, NoteResponse};
use super::super::follow_ups::FollowUpResponse;
use super::super::profiles::ProfileResponse;
use super::super::touches::TouchResponse;
use crate::domain::my_data::Head;
use crate::error::{Error, Result};

/// What `format` says, so that a reader can tell versions of this document apart.
pub const FORMAT: &str = "hallway-export/1";

/// Everything Hallway holds about me. `connections`, `connection_tombstones`, `follow_ups` and
/// `touches` come last in the document, in this order, after every field of the head.
#[derive(Serialize, ToSchema)]
pub struct MyDataExport {
    #[serde(flatten)]
    pub head: ExportHead,
    /// My live connections, by id, each with all my notes.
    pub connections: Vec<ExportedConnection>,
    /// What I keep of connections that are gone: ones I deleted, then ones whose other person
    /// deleted their account. Nothing of the other person but their former attendee id.
    pub connection_tombstones: Vec<ExportedTombstone>,
    /// All my follow-ups across my events, by id: every state (done ones with when and how,
    /// dismissed ones too), what made them (`origin`, and the conversation starter when one
    /// did). Dates as in the queue, in my time zone.
    pub follow_ups: Vec<FollowUpResponse>,
    /// Every touch I logged ("we had coffee"), by id.
    pub touches: Vec<TouchResponse>,
}

/// The part of the export written first.
#[derive(Serialize, ToSchema)]
pub struct ExportHead {
    #[schema(example = "hallway-export/1")]
    pub format: String,
    pub exported_at: DateTime<Utc>,
    pub account: ExportedAccount,
    pub sign_in: SignInHistory,
    /// My events: role, my profile there (topics, sharing) and my badges.
    pub memberships: Vec<ExportedMembership>,
    /// Whether I have a calendar feed (its token is never exported: Hallway keeps only a hash).
    pub calendar_feed: FeedStatusResponse,
    /// Mail to me still in the outbox, oldest first (sent mail is deleted after a few days).
    /// Sign-in codes are never stored in it once sent, and never exported.
    pub mail: Vec<ExportedMail>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedAccount {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// My IANA time zone: what "due today" means, when digests go out.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// My digest email of due follow-ups: `none`, `daily` or `weekly`.
    #[schema(value_type = DigestFrequency)]
    pub digest: String,
    /// The hour (0 to 23, in `time_zone`) my digest is sent at.
    pub digest_hour: i32,
}

/// What Hallway keeps of my sign-ins: sessions for 30 days, codes and wrong codes for a day.
#[derive(Serialize, ToSchema)]
pub struct SignInHistory {
    /// Refresh tokens (without the tokens): one per sign-in and per refresh; a `family_id` is one
    /// sign-in session.
    pub sessions: Vec<ExportedSession>,
    pub codes_requested: Vec<CodeRequest>,
    pub wrong_codes: Vec<WrongCode>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedSession {
    pub id: String,
    pub family_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeRequest {
    pub requested_at: DateTime<Utc>,
    /// The address the request came from (the TCP peer).
    pub client_ip: String,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct WrongCode {
    pub at: DateTime<Utc>,
    pub client_ip: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedMembership {
    pub event: ExportedEvent,
    /// My profile there, with my role, topics and sharing switches.
    pub profile: ProfileResponse,
    /// Every badge I had there, the revoked ones too.
    pub badges: Vec<ExportedBadge>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedEvent {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedBadge {
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedMail {
    pub id: String,
    /// What caused it (`sign_in_code`, `invitation`, `organizer_added`…).
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When the mail worker gave it up, if it did.
    pub given_up_at: Option<DateTime<Utc>>,
}

/// One of my connections with all my notes, oldest first. `notes` is its last field.
#[derive(Serialize, ToSchema)]
pub struct ExportedConnection {
    #[serde(flatten)]
    pub connection: ConnectionSummaryResponse,
    pub notes: Vec<NoteResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedTombstone {
    pub connection_id: String,
    pub event_id: String,
    pub other_attendee_id: String,
    pub first_met_at: DateTime<Utc>,
    pub last_met_at: DateTime<Utc>,
    pub scan_count: i32,
    pub deleted_at: DateTime<Utc>,
    /// `deleted_by_me` or `account_deleted` (the other person deleted their account).
    #[schema(example = "deleted_by_me")]
    pub reason: &'static str,
}

/// A connection written up to the opening of its notes: `{…,"notes":[`.
pub fn opened(connection: &ExportedConnection) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(connection).map_err(Error::internal)?;
    if !connection.notes.is_empty() || !bytes.ends_with(b"[]}") {
        return Err(Error::internal(anyhow::anyhow!(
            "an exported connection must end in its notes"
        )));
    }
    bytes.truncate(bytes.len() - 2);
    Ok(bytes)
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl From<Head> for ExportHead {
    fn from(head: Head) -> Self {
        let account = ExportedAccount {
            id: head.account.id,
            email: head.account.email,
            display_name: head.account.display_name,
            created_at: utc(head.account.created_at),
            updated_at: utc(head.account.updated_at),
            last_sign_in_at: head.last_sign_in_at.map(utc),
            time_zone: head.account.time_zone,
            digest: head.account.digest,
            digest_hour: head.account.digest_hour,
        };
        let sign_in = SignInHistory {
            sessions: head
                .sessions
                .into_iter()
                .map(|t| ExportedSession {
                    id: t.id,
                    family_id: t.family_id,
                    created_at: utc(t.created_at),
                    expires_at: utc(t.expires_at),
                    used_at: t.used_at.map(utc),
                    revoked_at: t.revoked_at.map(utc),
                })
                .collect(),
            codes_requested: head
                .codes
                .into_iter()
                .map(|(at, client_ip, used)| CodeRequest {
                    requested_at: utc(at),
                    client_ip,
                    used_at: used.map(utc),
                })
                .collect(),
            wrong_codes: head
                .wrong_codes
                .into_iter()
                .map(|(at, client_ip)| WrongCode { at: utc(at), client_ip })
                .collect(),
        };
        let memberships = head
            .memberships
            .into_iter()
            .map(|m| ExportedMembership {
                event: ExportedEvent {
                    id: m.event.id,
                    name: m.event.name,
                    slug: m.event.slug,
                    starts_at: utc(m.event.starts_at),
                    ends_at: utc(m.event.ends_at),
                    time_zone: m.event.time_zone,
                },
                profile: ProfileResponse::from(m.profile),
                badges: m
                    .badges
                    .into_iter()
                    .map(|b| ExportedBadge {
                        code: b.code,
                        created_at: utc(b.created_at),
                        revoked_at: b.revoked_at.map(utc),
                    })
                    .collect(),
            })
            .collect();
        let mail = head
            .mail
            .into_iter()
            .map(|m| ExportedMail {
                id: m.id,
                kind: m.kind,
                subject: m.subject,
                body: m.body_text,
                created_at: utc(m.created_at),
                sent_at: m.sent_at.map(utc),
                given_up_at: m.dead_at.map(utc),
            })
            .collect();
        Self {
            format: FORMAT.to_owned(),
            exported_at: Utc::now(),
            account,
            sign_in,
            memberships,
            calendar_feed: FeedStatusResponse {
                active: head.calendar_feed.is_some(),
                created_at: head.calendar_feed.map(utc),
            },
            mail,
        }
    }
}
