//! Hallway's load benchmarks, run against a release build of the server in its own process:
//!
//!     cargo bench --bench load               # every scenario, on SQLite and PostgreSQL
//!     cargo bench --bench load -- import     # one scenario (import, exchange, starters, people, followups) and/or backend
//!     cargo bench --bench load -- exchange2  # two API processes on one PostgreSQL (named alone: not run by `exchange`)
//!
//! `HALLWAY_BENCH_SMOKE=1` makes `exchange2` small enough to check that it runs (a debug build
//! is fine then); its figures mean nothing.
//!
//! Each run starts `hallway serve` on a fresh database (a temporary SQLite file; a new PostgreSQL
//! database at HALLWAY_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres,
//! dropped afterwards), drives it over HTTP on loopback, and reads the server's peak RSS (VmHWM)
//! from /proc. Results go to stdout as a Markdown table for BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use serde_json::{Value, json};

pub const SECRET: &str = "benchmark-secret-that-is-long-enough-for-hs256";

mod ceilings;
mod exchange;
mod exchange2;
mod followups;
mod import;
mod people;
mod starters;

pub struct Server {
    child: Child,
    pub base: String,
    /// The server's `DATABASE_URL`, for checking row counts directly.
    pub url: String,
    mail_dir: PathBuf,
    database: Database,
}

enum Database {
    Sqlite(PathBuf),
    Postgres(String),
    /// Another server's database (a second API process): that server drops it.
    Shared,
}

fn postgres_admin_url() -> String {
    std::env::var("HALLWAY_BENCH_POSTGRES_URL").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned()
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    pub fn start(backend: &str) -> Self {
        Self::start_with(backend, &[])
    }

    /// Starts the server with extra environment variables.
    pub fn start_with(backend: &str, env: &[(&str, &str)]) -> Self {
        let id = format!("hallway_bench_{}", uuid::Uuid::new_v4().simple());
        let (database, url) = if backend == "sqlite" {
            let path = std::env::temp_dir().join(format!("{id}.db"));
            let url = format!("sqlite://{}", path.display());
            (Database::Sqlite(path), url)
        } else {
            let admin = postgres_admin_url();
            let mut conn = PgConnection::establish(&admin).expect("PostgreSQL for the benchmark");
            diesel::sql_query(format!("CREATE DATABASE {id}")).execute(&mut conn).unwrap();
            let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
            let server = base.rsplit_once('/').unwrap().0;
            (Database::Postgres(id.clone()), format!("{server}/{id}?{query}"))
        };
        Self::spawn(&id, database, url, env)
    }

    /// Starts a second API process on `first`'s database, as a replica behind a load balancer.
    /// It runs no worker of its own (`first`'s does the background work). Drop it first.
    pub fn join(first: &Server, env: &[(&str, &str)]) -> Self {
        let id = format!("hallway_bench_{}", uuid::Uuid::new_v4().simple());
        let mut env = env.to_vec();
        env.push(("HALLWAY_EMBEDDED_WORKER", "false"));
        Self::spawn(&id, Database::Shared, first.url.clone(), &env)
    }

    fn spawn(id: &str, database: Database, url: String, env: &[(&str, &str)]) -> Self {
        let mail_dir = std::env::temp_dir().join(format!("{id}-mail"));
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_hallway"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("HALLWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("HALLWAY_MAIL", format!("file://{}", mail_dir.display()))
            .env("HALLWAY_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            // The server logs (warnings and errors only) go to the benchmark's stderr.
            .stdout(Stdio::from(std::io::stderr()))
            .spawn()
            .expect("start the server");
        let server =
            Self { child, base: format!("http://127.0.0.1:{port}"), url, mail_dir, database };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The server's peak resident set size so far, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.mail_dir);
        match &self.database {
            Database::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Database::Postgres(name) => {
                if let Ok(mut conn) = PgConnection::establish(&postgres_admin_url()) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
            Database::Shared => {}
        }
    }
}

pub struct Client {
    pub http: awc::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub async fn send(
        &self,
        method: awc::http::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = match body {
            Some((content_type, bytes)) => {
                request.insert_header(("Content-Type", content_type)).send_body(bytes).await
            }
            None => request.send().await,
        }
        .expect("request");
        let bytes = response.body().limit(64 * 1024 * 1024).await.expect("body");
        (response.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn json(&self, method: awc::http::Method, path: &str, body: &Value) -> (u16, Value) {
        self.send(method, path, Some(("application/json", body.to_string().into_bytes()))).await
    }
}

/// Waits until the mail worker has sent every queued email (an import's invitations), so that
/// what is measured next does not share the cores with writing them.
pub fn wait_for_mail(server: &Server) {
    use diesel::{ExpressionMethods, QueryDsl};
    use hallway::db::schema::outbox;
    let pool = hallway::db::connect(&server.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let started = Instant::now();
    loop {
        let queued: i64 = outbox::table
            .filter(outbox::sent_at.is_null())
            .filter(outbox::dead_at.is_null())
            .count()
            .get_result(&mut *conn)
            .unwrap();
        if queued == 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{queued} emails still queued");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Signs in through the real flow, reading the code from the development mail folder.
pub async fn sign_in(server: &Server, email: &str) -> Client {
    let http = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
    let mut client = Client { http, base: server.base.clone(), token: None };
    let (status, _) = client
        .json(awc::http::Method::POST, "/v1/auth/email-codes", &json!({ "email": email }))
        .await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(code) = find_code(&server.mail_dir) {
            break code;
        }
        assert!(Instant::now() < deadline, "no sign-in email");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    let (status, body) = client
        .json(awc::http::Method::POST, "/v1/auth/tokens", &json!({ "email": email, "code": code }))
        .await;
    assert_eq!(status, 200, "{body}");
    client.token = body["access_token"].as_str().map(str::to_owned);
    client
}

fn find_code(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let text = std::fs::read_to_string(entry.path()).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("Subject: Your Hallway sign-in code: ").map(str::to_owned))
    })
}

/// Prints results as they come (a run takes minutes), and keeps them for the table at the end.
fn report(results: Vec<(String, String)>) -> Vec<(String, String)> {
    for (name, value) in &results {
        eprintln!("{name}: {value}");
    }
    results
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let scenarios: Vec<&String> =
        filter.iter().filter(|f| !["sqlite", "postgres"].contains(&f.as_str())).collect();
    let wanted =
        |name: &str| scenarios.is_empty() || scenarios.iter().any(|f| name.contains(f.as_str()));
    // Only when named in full (or when every scenario runs): `exchange` alone must not start it.
    let named = |name: &str| scenarios.is_empty() || scenarios.iter().any(|f| f.as_str() == name);
    let mut results = Vec::new();
    let system = actix_web::rt::System::new();
    let backends: Vec<&str> = ["sqlite", "postgres"]
        .into_iter()
        .filter(|b| filter.iter().all(|f| !["sqlite", "postgres"].contains(&f.as_str()) || f == b))
        .collect();
    for backend in backends {
        if wanted("import") {
            results.extend(report(system.block_on(import::run(backend))));
        }
        if wanted("exchange") {
            results.extend(report(system.block_on(exchange::run(backend))));
        }
        // Several API processes share one database only on PostgreSQL.
        if named("exchange2") && backend == "postgres" {
            results.extend(report(system.block_on(exchange2::run())));
        }
        if wanted("starters") {
            results.extend(report(system.block_on(starters::run(backend))));
        }
        if wanted("people") {
            results.extend(report(system.block_on(people::run(backend))));
        }
        if wanted("followups") {
            results.extend(report(system.block_on(followups::run(backend))));
        }
    }
    println!("\n| measurement | result |\n|---|---|");
    for (name, value) in results {
        println!("| {name} | {value} |");
    }
}
