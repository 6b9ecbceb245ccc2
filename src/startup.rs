//! Builds the application: database, HTTP server and embedded worker. Tests call it too, on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use anyhow::Context;
use tokio::sync::Notify;
use tracing_actix_web::TracingLogger;

use crate::config::{Config, Environment};
use crate::db::{self, Db};
use crate::domain::auth::CodeKey;
use crate::domain::tokens::TokenKeys;
use crate::http;
use crate::qr;
use crate::telemetry;
use crate::worker::Worker;

/// How long a client may take to send the head of the first request on a connection.
pub const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub keys: TokenKeys,
    /// Hashes sign-in codes; derived from the same secret as `keys`, but a key of its own.
    pub code_key: CodeKey,
    /// Wakes the worker when a request has queued mail.
    pub outbox_wake: Arc<Notify>,
    /// Every rate limit: in this process on SQLite, shared by every process on PostgreSQL.
    pub limits: http::Limits,
    /// Renders badge sheets on threads of its own, never on the blocking pool.
    pub renderer: qr::renderer::Renderer,
}

pub struct Application {
    port: u16,
    address: String,
    server: Server,
    worker: Option<tokio::task::JoinHandle<()>>,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db =
            db::connect_with(&config.database_url, config.pool_size(), config.sqlite_write_queue)?;
        let migrate_db = db.clone();
        web::block(move || db::migrate(&migrate_db)).await??;
        let outbox_wake = Arc::new(Notify::new());
        let worker = if config.embedded_worker {
            let worker = Worker::new(db.clone(), &config, outbox_wake.clone())?;
            Some(tokio::spawn(worker.run()))
        } else {
            None
        };
        if config.environment == Environment::Development {
            tracing::info!("development mode (HALLWAY_ENV=production for production)");
        }
        let listener = TcpListener::bind(&config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local = listener.local_addr()?;
        let limits = http::Limits::new(&db, &config.database_url);
        let state = web::Data::new(AppState {
            keys: TokenKeys::new(&config.jwt_secret),
            code_key: CodeKey::new(&config.jwt_secret),
            db,
            config,
            outbox_wake,
            limits,
            renderer: qr::renderer::Renderer::start(qr::renderer::THREADS, qr::renderer::QUEUE)
                .context("cannot start the badge sheet renderer")?,
        });
        let server_state = state.clone();
        let workers = state.config.http_workers;
        let pool_size = usize::try_from(state.config.pool_size()).unwrap_or(10).max(2);
        let worker_count = workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        // Across all workers, about one blocking thread per pooled connection.
        let blocking_threads = pool_size.div_ceil(worker_count).max(2);
        let published = http::Published::new(&http::openapi());
        let docs = state.config.docs;
        let cors_origins = state.config.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .configure(http::serve_routes)
                .wrap(from_fn(http::body_deadline))
                .wrap(from_fn(http::refuse_control_characters))
                .wrap(from_fn(http::security_headers))
                .wrap(from_fn(telemetry::request_id_header))
                .wrap(http::cors(&cors_origins))
                .wrap(TracingLogger::<telemetry::PeerSpan>::new())
                .app_data(server_state.clone())
                .configure(|cfg| http::configure_extras(cfg, published.clone(), docs))
        });
        let server = match workers {
            Some(count) => server.workers(count.max(1)),
            None => server,
        }
        // Database work waits for a pooled connection anyway: more blocking threads than
        // connections only add memory (each thread may get its own malloc arena, which keeps
        // what it once held).
        .worker_max_blocking_threads(blocking_threads)
        // Phones keep connections open between scans; 5 s (actix's default) drops them too soon.
        .keep_alive(std::time::Duration::from_secs(75))
        // A new connection's request head must arrive within this (answered `408` and closed
        // otherwise); later heads on a kept-alive connection are bounded by `keep_alive`, and
        // bodies by `HALLWAY_BODY_TIMEOUT_MS` (`http::body_deadline`).
        .client_request_timeout(REQUEST_HEAD_TIMEOUT);
        let server = server.listen(listener)?.run();
        Ok(Self { port: local.port(), address: local.to_string(), server, worker, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// The database the application uses (for tests and operators).
    pub fn db(&self) -> Db {
        self.state.db.clone()
    }

    /// A handle to stop the HTTP server from elsewhere.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        if let Some(worker) = self.worker {
            worker.abort();
        }
        // SQLite: the writes still queued commit before the process ends.
        let db = self.state.db.clone();
        web::block(move || db.stop_writes()).await?;
        result.map_err(Into::into)
    }
}
