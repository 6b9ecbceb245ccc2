//! Hallway's integration tests: the real server over HTTP, a fresh database per test, on SQLite and
//! on PostgreSQL, with mail delivered to a real SMTP server on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod parsers;
mod seed;
mod smtp;

mod account;
mod auth;
mod badge_names;
mod badges;
mod cadence;
mod calendar_feed;
mod connections;
mod contract;
mod cors;
mod events;
mod example_schemas;
mod examples;
mod exports;
mod follow_up_fixes;
mod follow_up_jobs;
mod follow_ups;
mod imports;
mod introductions;
mod mail;
mod mail_queue;
mod my_data;
mod operations;
mod organizing;
mod people;
mod pool;
mod privacy;
mod profiles;
mod prompts;
mod quotas;
mod races;
mod request_errors;
mod scans;
mod security;
mod sign_in_limits;
mod starter_follow_ups;
mod starters;
mod sync;
mod text;
mod topics;
