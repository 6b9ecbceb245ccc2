//! Hallway: the backend that conference networking apps talk to.
//!
//! Layers, data flowing one way: `http` → `domain` → `db`; `mail` and `worker` beside them;
//! `config`, `error` and `telemetry` are shared by all.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
mod error_codes;
pub mod http;
pub mod mail;
pub mod qr;
pub mod startup;
pub mod telemetry;
pub mod worker;

pub use config::Config;
pub use startup::Application;
