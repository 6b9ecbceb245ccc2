//! Spawns the real server on port 0 against a fresh database, and talks to it over HTTP.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use awc::http::{Method, StatusCode, header::HeaderMap};
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use hallway::config::{Config, Environment, MailTransport};
use hallway::db::Db;
use serde_json::{Value, json};

use crate::smtp::{self, MailStore, Received};

mod people;
pub use people::{event_body, unique_slug};

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";
pub const MAIL_WAIT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates, for each named test function, a module with one test per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            }

            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::postgres_available() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        }
    )*};
}

/// TLS is off by default on this loopback connection: it buys nothing there, and a test server's
/// pool can still be closing its connections on another thread while the test binary exits, when
/// OpenSSL's exit handler has already freed what closing a TLS connection needs (a crash after
/// every test passed, seen once in twenty runs).
pub fn admin_url() -> String {
    std::env::var("HALLWAY_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned()
    })
}

/// Whether PostgreSQL is reachable. When it is not, says so loudly (past the test harness's output
/// capture); with `CI=true` that is a failure.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = AVAILABLE.get_or_init(|| {
        let outcome = PgConnection::establish(&admin_url()).map(drop).map_err(|e| e.to_string());
        if let Err(error) = &outcome {
            let _ = writeln!(
                std::io::stderr(),
                "\n\n*** PostgreSQL leg SKIPPED: cannot connect to {} ({error}).\n\
                 *** Set HALLWAY_TEST_POSTGRES_URL or start PostgreSQL; with CI=true this fails.\n",
                admin_url()
            );
        }
        outcome
    });
    match result {
        Ok(()) => true,
        Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and PostgreSQL is unreachable at {}: {error}", admin_url())
        }
        Err(_) => false,
    }
}

/// A fresh database for one test, removed when dropped.
enum TestDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TestDb {
    fn create(backend: Backend) -> (Self, String) {
        let name = format!("hallway_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                (Self::Sqlite(path), url)
            }
            Backend::Postgres => {
                let admin = admin_url();
                let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create db");
                let (base, query) =
                    admin.split_once('?').map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
                let (server, _) = base.rsplit_once('/').expect("PostgreSQL URL with a database");
                let url = match query {
                    Some(q) => format!("{server}/{name}?{q}"),
                    None => format!("{server}/{name}"),
                };
                (Self::Postgres(name), url)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Self::Postgres(name) => {
                if let Ok(mut conn) = PgConnection::establish(&admin_url()) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// The fresh database's URL, for tests that need a connection of their own.
    pub database_url: String,
    pub db: Db,
    pub mail: MailStore,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
    /// The database this app created and drops; `None` for a second server on another's.
    _database: Option<TestDb>,
}

/// A response, its body parsed as JSON (or `Null` when empty or not JSON).
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of a problem+json body, after checking that it is one.
    pub fn problem_code(&self) -> &str {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not a problem document: {} {}",
            self.status,
            self.body
        );
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(self.status.as_u16())));
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "no detail: {}",
            self.body
        );
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct Session {
    pub email: String,
    pub account_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// An email address no other test uses.
pub fn unique_email(name: &str) -> String {
    format!("{name}-{}@example.org", uuid::Uuid::new_v4().simple())
}

pub fn test_config(database_url: String, mail: MailTransport) -> Config {
    Config {
        database_url,
        listen: "127.0.0.1:0".to_owned(),
        public_url: "http://hallway.test".to_owned(),
        mail,
        mail_from: "Hallway <hallway@example.org>".to_owned(),
        jwt_secret: JWT_SECRET.as_bytes().to_vec(),
        environment: Environment::Development,
        db_pool_size: Some(4),
        http_workers: Some(1),
        embedded_worker: true,
        worker_poll: Duration::from_millis(500),
        mail_retry_base: Duration::from_millis(50),
        quotas: hallway::config::Quotas::default(),
        mail_max_attempts: 12,
        outbox_retention: Duration::from_secs(7 * 24 * 3600),
        sqlite_write_queue: hallway::db::DEFAULT_WRITE_QUEUE,
        docs: true,
        body_timeout: Duration::from_secs(30),
        jobs_interval: None,
        cors_origins: Vec::new(),
        sign_in_codes_per_client: hallway::domain::auth::CODES_PER_CLIENT,
    }
}

/// Starts Hallway on a fresh database, sending mail to the shared loopback SMTP server.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let (port, store) = smtp::shared();
    spawn_app_with(backend, MailTransport::Smtp(format!("smtp://127.0.0.1:{port}")), store.clone())
        .await
}

pub async fn spawn_app_with(backend: Backend, mail: MailTransport, store: MailStore) -> TestApp {
    spawn(backend, mail, store, |_| {}).await
}

/// Starts Hallway as [`spawn_app`] does, with `configure` changing its configuration first.
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let (port, store) = smtp::shared();
    let mail = MailTransport::Smtp(format!("smtp://127.0.0.1:{port}"));
    spawn(backend, mail, store.clone(), configure).await
}

/// Starts Hallway with its own mail transport and store, `configure` changing its configuration.
pub async fn spawn(
    backend: Backend,
    mail: MailTransport,
    store: MailStore,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    // The server's logs, when wanted: HALLWAY_TEST_LOG=1 cargo test -- --nocapture
    if std::env::var_os("HALLWAY_TEST_LOG").is_some() {
        hallway::telemetry::init();
    }
    let (database, url) = TestDb::create(backend);
    let mut config = test_config(url.clone(), mail);
    configure(&mut config);
    start(config, store, Some(database)).await
}

/// Starts another Hallway process's worth (its own pool, limits and HTTP server) on the database
/// of `first`, as a second replica behind a load balancer. It keeps no embedded worker: the first
/// one's does the database's background work. Drop it before `first`.
pub async fn second_server(first: &TestApp) -> TestApp {
    let mail = MailTransport::Smtp(format!("smtp://127.0.0.1:{}", smtp::shared().0));
    let mut config = test_config(first.database_url.clone(), mail);
    config.embedded_worker = false;
    start(config, first.mail.clone(), None).await
}

async fn start(config: Config, store: MailStore, database: Option<TestDb>) -> TestApp {
    let url = config.database_url.clone();
    let app = hallway::Application::build(config).await.expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db();
    let server = app.server_handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url: url,
        db,
        mail: store,
        client: awc::Client::builder().timeout(Duration::from_secs(30)).finish(),
        server,
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the database is dropped after.
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// Sends a request with an optional bearer token and raw body and content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let sent = match body {
            Some((content_type, bytes)) => {
                request.insert_header(("Content-Type", content_type)).send_body(bytes).await
            }
            None => request.send().await,
        };
        let mut response = sent.expect("request failed");
        let raw = response.body().limit(16 * 1024 * 1024).await.expect("read body").to_vec();
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(
            Method::POST,
            path,
            token,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(
            Method::PATCH,
            path,
            token,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn request_code(&self, email: &str) -> TestResponse {
        self.post("/v1/auth/email-codes", None, &json!({ "email": email })).await
    }

    /// Waits for the `n`th email to `email` and returns it.
    pub async fn nth_mail(&self, email: &str, n: usize) -> Received {
        let mut all = self.mail.wait_for(email, n, MAIL_WAIT).await;
        all.swap_remove(n - 1)
    }

    pub async fn exchange(&self, email: &str, code: &str) -> TestResponse {
        self.post("/v1/auth/tokens", None, &json!({ "email": email, "code": code })).await
    }

    /// Signs in as a new person with a unique address.
    pub async fn sign_in(&self, name: &str) -> Session {
        self.sign_in_as(&unique_email(name)).await
    }

    /// Signs in as `email`: asks for a code, reads it from the SMTP server, exchanges it.
    pub async fn sign_in_as(&self, email: &str) -> Session {
        let is_code = |m: &Received| m.sign_in_code().is_some();
        let before = self.mail.for_recipient(email).iter().filter(|m| is_code(m)).count();
        assert_eq!(self.request_code(email).await.status, StatusCode::ACCEPTED);
        let mails = self.mail.wait_for_matching(email, before + 1, MAIL_WAIT, is_code).await;
        let code = mails[before].sign_in_code().expect("a code in the email");
        let response = self.exchange(email, &code).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        Session {
            email: email.to_owned(),
            account_id: response.body["account_id"].as_str().unwrap().to_owned(),
            access_token: response.body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: response.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Runs a query on the application's database from the test.
    pub fn query<T>(
        &self,
        f: impl FnOnce(&mut hallway::db::DbConn) -> diesel::QueryResult<T>,
    ) -> T {
        let mut conn = self.db.get().expect("a database connection");
        f(&mut conn).expect("test query")
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(
            Method::PUT,
            path,
            token,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }
}

/// What a real QR decoder (rqrr) reads in a PNG image: (content, version, error-correction level)
/// of each code it can decode. In an image of many codes, rqrr also tries grids made of finder
/// patterns of different codes; those fail to decode and are left out.
pub fn decode_qr_codes(png: &[u8]) -> Vec<(String, usize, u16)> {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok())
        .map(|(meta, content)| (content, meta.version.0, meta.ecc_level))
        .collect()
}
