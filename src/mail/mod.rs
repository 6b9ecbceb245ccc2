//! Email: queued in the outbox inside the transaction that causes it, then delivered by the worker
//! through lettre, over SMTP in production or as `.eml` files in development.

pub mod introductions;
pub mod templates;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, MailTransport};
use crate::db::{self, DbConn, outbox};
use crate::error::Result;

/// How soon a message must go: the worker sends every due message of a higher priority first, so
/// that a sign-in code never waits behind ten thousand invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Someone is waiting for it on a sign-in screen.
    SignIn = 0,
    /// Written to one person because of another's action (an organizer notice, an introduction).
    Personal = 1,
    /// Sent to many at once (import invitations, digests).
    Bulk = 2,
}
/// Where a message's secret goes in its subject and body; the outbox stores the secret apart.
pub const SECRET_SLOT: &str = "{{secret}}";

/// A message ready to be queued.
pub struct Outgoing {
    pub kind: &'static str,
    pub priority: Priority,
    pub recipient: String,
    /// With [`SECRET_SLOT`] where `secret` goes, if the message has one.
    pub subject: String,
    pub body_text: String,
    /// What must not stay at rest once the message is sent (a sign-in code): stored in its own
    /// column, put in the slots only when the message is sent, and dropped once it is.
    pub secret: Option<String>,
}

/// Who caused a message and in which event: what mail quotas are charged to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    pub sender_id: Option<&'a str>,
    pub event_id: Option<&'a str>,
}

impl Outgoing {
    /// The outbox row of this message, due at once.
    pub fn row<'a>(
        &'a self,
        id: &'a str,
        origin: Origin<'a>,
        now: chrono::NaiveDateTime,
    ) -> outbox::NewMessage<'a> {
        outbox::NewMessage {
            id,
            kind: self.kind,
            recipient: &self.recipient,
            subject: &self.subject,
            body_text: &self.body_text,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            sender_id: origin.sender_id,
            event_id: origin.event_id,
            priority: self.priority as i32,
            secret: self.secret.as_deref(),
        }
    }
}

/// Writes `message` to the outbox; it goes out when the caller's transaction commits.
pub fn queue(conn: &mut DbConn, message: &Outgoing, origin: Origin<'_>) -> Result<()> {
    outbox::insert(conn, &message.row(&db::new_id(), origin, db::now()))?;
    Ok(())
}

/// `text` with its secret slots filled. A message without a secret is sent as stored: only a
/// message that has a secret was written with slots (by a template, not from people's text).
fn fill(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) => text.replace(SECRET_SLOT, secret),
        None => text.to_owned(),
    }
}

/// Why a message was not sent, and whether trying again could help.
#[derive(Debug)]
pub struct SendError {
    /// The message can never be sent as it is (a recipient the mail library cannot parse, an
    /// SMTP 5xx answer): it is given up at once.
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self { permanent: true, message }
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Delivers outbox messages through the configured transport.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("HALLWAY_MAIL_FROM is not a valid mailbox: {e}"))?;
        let transport = match &config.mail {
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    // The URL holds credentials: say what is wrong without repeating it.
                    .map_err(|e| anyhow::anyhow!("HALLWAY_MAIL is not a valid SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(15)))
                    .build(),
            ),
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create mail folder {}: {e}", dir.display())
                })?;
                Transport::File(AsyncFileTransport::new(dir))
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends one outbox message; the error text is kept on the outbox row for operators.
    pub async fn send(&self, message: &outbox::Message) -> Result<(), SendError> {
        // lettre's own parser: what it cannot parse it can never send.
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| SendError::permanent(format!("bad recipient: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(fill(&message.subject, message.secret.as_deref()))
            .header(ContentType::TEXT_PLAIN)
            .body(fill(&message.body_text, message.secret.as_deref()))
            .map_err(|e| SendError::permanent(format!("cannot build message: {e}")))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(email).await.map(drop).map_err(|e| SendError {
                // A 5xx answer (no such mailbox, refused): the same message will never pass.
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::File(file) => file
                .send(email)
                .await
                .map(drop)
                .map_err(|e| SendError { permanent: false, message: e.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_fills_its_slots_and_a_message_without_one_is_sent_as_written() {
        assert_eq!(
            fill("code: {{secret}}; again {{secret}}", Some("042917")),
            "code: 042917; again 042917"
        );
        assert_eq!(fill("Join {{secret}} now", None), "Join {{secret}} now");
    }
}
