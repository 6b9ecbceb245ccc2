//! Configuration from environment variables, with development defaults that need nothing installed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::RngCore;

mod production;

use production::{refuse_unsafe_mail_in_production, secret_weakness};

/// Where outgoing mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// An `smtp://` or `smtps://` URL, credentials included (never logged).
    Smtp(String),
    /// Each message is written as an `.eml` file into this folder.
    File(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: String,
    pub public_url: String,
    pub mail: MailTransport,
    pub mail_from: String,
    pub jwt_secret: Vec<u8>,
    pub environment: Environment,
    /// Database connections per process; `None` picks [`Config::pool_size`]'s default.
    pub db_pool_size: Option<u32>,
    /// HTTP worker threads; `None` means one per CPU core.
    pub http_workers: Option<usize>,
    /// Whether `serve` also runs the background worker in the same process.
    pub embedded_worker: bool,
    /// How often the worker looks for due work when nothing wakes it.
    pub worker_poll: Duration,
    /// The first retry delay of a failed email; it doubles with each attempt, up to an hour.
    pub mail_retry_base: Duration,
    /// Attempts after which an email that keeps failing is given up (a dead letter).
    pub mail_max_attempts: i32,
    /// SQLite: writes that may wait for the writer; beyond, a write answers `503 overloaded`.
    pub sqlite_write_queue: usize,
    /// How long sent mail stays in the outbox before the worker deletes it.
    pub outbox_retention: Duration,
    /// What one account may cause: events, emails, co-organizers.
    pub quotas: Quotas,
    /// Whether `/docs` (Swagger UI) is served; `/openapi.json` always is.
    pub docs: bool,
    /// How long a client may take to send a request body, from the end of its head.
    pub body_timeout: Duration,
    /// How often the worker runs its scheduled jobs (the post-event queue, digests); `None`: never
    /// (tests run them by hand, with a time of their choosing).
    pub jobs_interval: Option<Duration>,
    /// Web origins (`https://app.example.org`) whose pages may call the API (CORS); `*` for any.
    /// Empty: no cross-origin calls.
    pub cors_origins: Vec<String>,
    /// Sign-in codes one client address may request in 15 minutes, over all email addresses.
    pub sign_in_codes_per_client: usize,
}

/// Budgets on what one account or one event may cause, so that Hallway cannot be used to send
/// mail in bulk to people who never asked for it. Counted in the database over the last 24 hours,
/// so they hold across API processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Events one account may create in 24 hours.
    pub events_per_account_per_day: u32,
    /// Emails (invitations, organizer notices) one account may cause in 24 hours.
    pub mail_per_account_per_day: u32,
    /// Emails caused in one event, by all its organizers together, in 24 hours.
    pub mail_per_event_per_day: u32,
    /// Organizers one event may have.
    pub organizers_per_event: u32,
}

impl Default for Quotas {
    /// Room for an organizer importing 10,000 people the night before, and correcting the list;
    /// not for an account that creates events to mail strangers.
    fn default() -> Self {
        Self {
            events_per_account_per_day: 10,
            mail_per_account_per_day: 12_000,
            mail_per_event_per_day: 12_000,
            organizers_per_event: 20,
        }
    }
}

impl Quotas {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let defaults = Self::default();
        Ok(Self {
            events_per_account_per_day: parse_number(
                lookup,
                "HALLWAY_EVENTS_PER_ACCOUNT_PER_DAY",
                defaults.events_per_account_per_day,
            )?,
            mail_per_account_per_day: parse_number(
                lookup,
                "HALLWAY_MAIL_PER_ACCOUNT_PER_DAY",
                defaults.mail_per_account_per_day,
            )?,
            mail_per_event_per_day: parse_number(
                lookup,
                "HALLWAY_MAIL_PER_EVENT_PER_DAY",
                defaults.mail_per_event_per_day,
            )?,
            organizers_per_event: parse_number(
                lookup,
                "HALLWAY_ORGANIZERS_PER_EVENT",
                defaults.organizers_per_event,
            )?,
        })
    }
}

/// The smallest JWT secret accepted, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|value| !value.is_empty()))
    }

    /// Reads the configuration through `lookup`, so that tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let environment = match lookup("HALLWAY_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                bail!("HALLWAY_ENV must be `development` or `production`, not `{other}`")
            }
        };
        let listen = lookup("HALLWAY_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let public_url = lookup("HALLWAY_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let mail = parse_mail(
            &secret(&lookup, "HALLWAY_MAIL")?.unwrap_or_else(|| "file://./outbox".to_owned()),
        )?;
        let jwt_secret = match secret(&lookup, "HALLWAY_JWT_SECRET")? {
            Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => secret.into_bytes(),
            Some(_) => {
                bail!("HALLWAY_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long")
            }
            None if environment == Environment::Production => {
                bail!("HALLWAY_JWT_SECRET is required when HALLWAY_ENV=production")
            }
            None => {
                tracing::warn!(
                    "HALLWAY_JWT_SECRET is not set: using a random secret, so tokens die with this process"
                );
                let mut secret = vec![0u8; 48];
                rand::rng().fill_bytes(&mut secret);
                secret
            }
        };
        if let Some(weakness) = secret_weakness(&jwt_secret) {
            if environment == Environment::Production {
                bail!("HALLWAY_JWT_SECRET is too weak for production: {weakness}");
            }
            tracing::warn!("HALLWAY_JWT_SECRET would be refused in production: {weakness}");
        }
        if environment == Environment::Production {
            refuse_unsafe_mail_in_production(&mail)?;
        }
        Ok(Self {
            database_url: secret(&lookup, "DATABASE_URL")?
                .unwrap_or_else(|| "sqlite://hallway.db".to_owned()),
            listen,
            public_url,
            mail,
            mail_from: lookup("HALLWAY_MAIL_FROM")
                .unwrap_or_else(|| "Hallway <hallway@localhost>".to_owned()),
            jwt_secret,
            environment,
            db_pool_size: match lookup("HALLWAY_DB_POOL_SIZE") {
                Some(_) => Some(parse_number(&lookup, "HALLWAY_DB_POOL_SIZE", 10)?),
                None => None,
            },
            http_workers: match lookup("HALLWAY_HTTP_WORKERS") {
                Some(_) => Some(parse_number(&lookup, "HALLWAY_HTTP_WORKERS", 1)?),
                None => None,
            },
            embedded_worker: parse_bool(&lookup, "HALLWAY_EMBEDDED_WORKER", true)?,
            worker_poll: Duration::from_millis(parse_number(
                &lookup,
                "HALLWAY_WORKER_POLL_MS",
                1000,
            )?),
            mail_retry_base: Duration::from_millis(parse_number(
                &lookup,
                "HALLWAY_MAIL_RETRY_BASE_MS",
                2000,
            )?),
            quotas: Quotas::from_lookup(&lookup)?,
            mail_max_attempts: parse_number(&lookup, "HALLWAY_MAIL_MAX_ATTEMPTS", 12)?.max(1),
            // At least a day: the mail quotas count the last 24 hours of the outbox.
            outbox_retention: Duration::from_secs(
                parse_number::<u64>(&lookup, "HALLWAY_OUTBOX_RETENTION_DAYS", 7)?
                    .max(1)
                    .saturating_mul(24 * 3600),
            ),
            sqlite_write_queue: parse_number(
                &lookup,
                "HALLWAY_SQLITE_WRITE_QUEUE",
                crate::db::DEFAULT_WRITE_QUEUE,
            )?
            .max(1),
            docs: parse_bool(&lookup, "HALLWAY_DOCS", environment == Environment::Development)?,
            body_timeout: Duration::from_millis(
                parse_number::<u64>(&lookup, "HALLWAY_BODY_TIMEOUT_MS", 30_000)?.max(1),
            ),
            jobs_interval: match parse_number::<u64>(&lookup, "HALLWAY_JOBS_INTERVAL_SECS", 60)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            cors_origins: parse_origins(lookup("HALLWAY_CORS_ORIGINS").as_deref())?,
            sign_in_codes_per_client: parse_number(
                &lookup,
                "HALLWAY_SIGN_IN_CODES_PER_CLIENT",
                match environment {
                    Environment::Development => {
                        crate::domain::auth::CODES_PER_CLIENT_IN_DEVELOPMENT
                    }
                    Environment::Production => crate::domain::auth::CODES_PER_CLIENT,
                },
            )?
            .max(1),
        })
    }
}

/// A comma-separated list of web origins (`scheme://host[:port]`, no path), or `*`.
pub fn parse_origins(raw: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = origin.trim_end_matches('/');
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let valid = origin == "*"
            || host.is_some_and(|h| {
                !h.is_empty()
                    && !h.contains(['/', '?', '#', '@'])
                    && !h.contains(char::is_whitespace)
            });
        if !valid {
            bail!(
                "HALLWAY_CORS_ORIGINS: `{origin}` is not an origin like `https://app.example.org` \
                 (scheme, host and port only) or `*`"
            );
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

impl Config {
    /// Pooled connections per process: as configured, else 10 for SQLite (readers, side by side;
    /// two more connections write and checkpoint) and two per CPU core plus two for
    /// PostgreSQL (more only queue for the same cores; measured in BENCHMARKS.md).
    pub fn pool_size(&self) -> u32 {
        self.db_pool_size.unwrap_or_else(|| match crate::db::parse_url(&self.database_url).0 {
            crate::db::Backend::Sqlite => 10,
            crate::db::Backend::Postgres => {
                let cores = std::thread::available_parallelism().map_or(2, usize::from);
                u32::try_from(cores * 2 + 2).unwrap_or(10)
            }
        })
    }
}

fn parse_mail(value: &str) -> anyhow::Result<MailTransport> {
    if let Some(dir) = value.strip_prefix("file://") {
        return Ok(MailTransport::File(PathBuf::from(dir)));
    }
    if value.starts_with("smtp://") || value.starts_with("smtps://") {
        return Ok(MailTransport::Smtp(value.to_owned()));
    }
    bail!("HALLWAY_MAIL must start with smtp://, smtps:// or file://")
}

/// A secret's value, from `KEY` or from the file named by `KEY_FILE` (Docker secrets), with the
/// file's trailing line break removed. Both at once is refused: which one wins would be a guess.
fn secret(lookup: &impl Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<String>> {
    let file_key = format!("{key}_FILE");
    let Some(path) = lookup(&file_key) else { return Ok(lookup(key)) };
    if lookup(key).is_some() {
        bail!("set {key} or {file_key}, not both");
    }
    let value = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {file_key} ({path})"))?;
    let value = value.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        bail!("{file_key} names an empty file ({path})");
    }
    Ok(Some(value.to_owned()))
}

fn parse_number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match lookup(key) {
        Some(value) => value.parse().with_context(|| format!("{key} must be a number")),
        None => Ok(default),
    }
}

fn parse_bool(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: bool,
) -> anyhow::Result<bool> {
    match lookup(key).as_deref() {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => bail!("{key} must be true or false, not `{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn lookup<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| vars.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let error = Config::from_lookup(lookup(&[("HALLWAY_ENV", "production")]))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("HALLWAY_JWT_SECRET is required when HALLWAY_ENV=production")
        );
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        assert!(Config::from_lookup(lookup(&[("HALLWAY_JWT_SECRET", "short")])).is_err());
    }

    #[test]
    fn development_defaults_need_nothing_installed() -> anyhow::Result<()> {
        let config = Config::from_lookup(lookup(&[]))?;
        assert_eq!(config.database_url, "sqlite://hallway.db");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.mail, MailTransport::File(PathBuf::from("./outbox")));
        assert_eq!(config.jwt_secret.len(), 48);
        assert_eq!(config.sqlite_write_queue, 1_000);
        assert_eq!(config.outbox_retention, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(config.jobs_interval, Some(Duration::from_secs(60)));
        let off = Config::from_lookup(lookup(&[("HALLWAY_JOBS_INTERVAL_SECS", "0")]))?;
        assert_eq!(off.jobs_interval, None);
        Ok(())
    }

    #[test]
    fn the_sqlite_write_queue_is_configurable() -> anyhow::Result<()> {
        let config = Config::from_lookup(lookup(&[("HALLWAY_SQLITE_WRITE_QUEUE", "50")]))?;
        assert_eq!(config.sqlite_write_queue, 50);
        assert!(Config::from_lookup(lookup(&[("HALLWAY_SQLITE_WRITE_QUEUE", "many")])).is_err());
        Ok(())
    }

    #[test]
    fn an_unknown_mail_scheme_is_refused() {
        assert!(Config::from_lookup(lookup(&[("HALLWAY_MAIL", "mailto:x")])).is_err());
    }

    pub(super) const STRONG: &str =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    pub(super) fn production<'a>(extra: &[(&'a str, &'a str)]) -> anyhow::Result<Config> {
        let mut vars = vec![
            ("HALLWAY_ENV", "production"),
            ("HALLWAY_JWT_SECRET", STRONG),
            ("HALLWAY_MAIL", "smtps://user:pass@smtp.example.org:465"),
        ];
        for &(key, value) in extra {
            vars.retain(|(k, _)| *k != key);
            vars.push((key, value));
        }
        Config::from_lookup(lookup(&vars))
    }

    #[test]
    fn development_accepts_plain_smtp_and_files() -> anyhow::Result<()> {
        let config = Config::from_lookup(lookup(&[("HALLWAY_MAIL", "smtp://u:p@mailpit:1025")]))?;
        assert_eq!(config.mail, MailTransport::Smtp("smtp://u:p@mailpit:1025".to_owned()));
        Ok(())
    }

    /// A file no other test uses, removed when dropped.
    struct SecretFile(PathBuf);

    impl SecretFile {
        fn new(content: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("hallway-secret-{}", uuid::Uuid::new_v4()));
            std::fs::write(&path, content).unwrap();
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for SecretFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn secrets_are_read_from_files_without_their_final_line_break() -> anyhow::Result<()> {
        let jwt = SecretFile::new(&format!("{STRONG}\n"));
        let mail = SecretFile::new("smtps://user:pass@smtp.example.org\r\n");
        let database = SecretFile::new("postgres://hallway:s3cret@postgres/hallway\n");
        let config = Config::from_lookup(lookup(&[
            ("HALLWAY_ENV", "production"),
            ("HALLWAY_JWT_SECRET_FILE", jwt.path()),
            ("HALLWAY_MAIL_FILE", mail.path()),
            ("DATABASE_URL_FILE", database.path()),
        ]))?;
        assert_eq!(config.jwt_secret, STRONG.as_bytes());
        assert_eq!(
            config.mail,
            MailTransport::Smtp("smtps://user:pass@smtp.example.org".to_owned())
        );
        assert_eq!(config.database_url, "postgres://hallway:s3cret@postgres/hallway");
        Ok(())
    }

    #[test]
    fn a_secret_given_twice_missing_or_empty_is_refused() {
        let jwt = SecretFile::new(STRONG);
        let empty = SecretFile::new("\n");
        let both = Config::from_lookup(lookup(&[
            ("HALLWAY_JWT_SECRET", STRONG),
            ("HALLWAY_JWT_SECRET_FILE", jwt.path()),
        ]));
        assert_eq!(
            both.err().map(|e| e.to_string()).as_deref(),
            Some("set HALLWAY_JWT_SECRET or HALLWAY_JWT_SECRET_FILE, not both")
        );
        let missing = "/nonexistent/hallway-secret";
        assert!(Config::from_lookup(lookup(&[("DATABASE_URL_FILE", missing)])).is_err());
        assert!(Config::from_lookup(lookup(&[("HALLWAY_MAIL_FILE", empty.path())])).is_err());
    }

    #[test]
    fn docs_are_served_in_development_only_unless_asked_for() -> anyhow::Result<()> {
        assert!(Config::from_lookup(lookup(&[]))?.docs);
        assert!(!production(&[])?.docs);
        assert!(production(&[("HALLWAY_DOCS", "true")])?.docs);
        assert!(!Config::from_lookup(lookup(&[("HALLWAY_DOCS", "false")]))?.docs);
        Ok(())
    }

    #[test]
    fn the_body_timeout_defaults_to_thirty_seconds_and_is_configurable() -> anyhow::Result<()> {
        assert_eq!(Config::from_lookup(lookup(&[]))?.body_timeout, Duration::from_secs(30));
        let config = Config::from_lookup(lookup(&[("HALLWAY_BODY_TIMEOUT_MS", "250")]))?;
        assert_eq!(config.body_timeout, Duration::from_millis(250));
        assert!(Config::from_lookup(lookup(&[("HALLWAY_BODY_TIMEOUT_MS", "soon")])).is_err());
        Ok(())
    }

    #[test]
    fn cors_origins_are_a_checked_comma_list_none_by_default() -> anyhow::Result<()> {
        assert!(Config::from_lookup(lookup(&[]))?.cors_origins.is_empty());
        assert_eq!(
            parse_origins(Some(" https://app.example.org/, http://localhost:3000 ,"))?,
            vec!["https://app.example.org", "http://localhost:3000"]
        );
        assert_eq!(parse_origins(Some("*"))?, vec!["*"]);
        for bad in ["app.example.org", "https://app.example.org/path", "ftp://x", "https://"] {
            assert!(parse_origins(Some(bad)).is_err(), "{bad} was accepted");
        }
        Ok(())
    }

    #[test]
    fn the_sign_in_code_limit_per_client_is_relaxed_in_development_only() -> anyhow::Result<()> {
        use crate::domain::auth::{CODES_PER_CLIENT, CODES_PER_CLIENT_IN_DEVELOPMENT};
        let development = Config::from_lookup(lookup(&[]))?;
        assert_eq!(development.sign_in_codes_per_client, CODES_PER_CLIENT_IN_DEVELOPMENT);
        assert_eq!(production(&[])?.sign_in_codes_per_client, CODES_PER_CLIENT);
        let set = production(&[("HALLWAY_SIGN_IN_CODES_PER_CLIENT", "100")])?;
        assert_eq!(set.sign_in_codes_per_client, 100);
        assert!(production(&[("HALLWAY_SIGN_IN_CODES_PER_CLIENT", "many")]).is_err());
        Ok(())
    }
}
