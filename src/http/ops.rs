//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, ErrorCode, Result};
use crate::startup::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: &'static str,
}

/// The one status a healthy probe answers.
pub const HEALTHY: &str = "ok";

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up.", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: HEALTHY })
}

/// The database answers, and on SQLite its writer takes writes.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers and takes writes.", body = Health),
        (status = 503, description = "The database does not answer, or (SQLite) its writer has stopped (`database_unavailable`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    if !state.db.takes_writes() {
        return Err(Error::unavailable(
            ErrorCode::DatabaseUnavailable,
            None,
            "The database takes no writes: SQLite's writer has stopped.",
        ));
    }
    if state.db.ping().await {
        Ok(HttpResponse::Ok().json(Health { status: HEALTHY }))
    } else {
        Err(Error::unavailable(
            ErrorCode::DatabaseUnavailable,
            None,
            "The database does not answer.",
        ))
    }
}
