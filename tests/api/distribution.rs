//! Whether the schema could be distributed by event (Citus and the like): a table sharded by
//! `event_id` needs `event_id` in its primary key and in every unique key (constraints and unique
//! indexes alike), since each shard checks uniqueness alone. This test reads the catalog and pins
//! today's answer: which event-scoped tables comply, which do not and why, and which tables have
//! no `event_id` at all. Primary keys are not changed yet (ARCHITECTURE.md, "How it scales"), but a
//! new table that breaks the rule, or one that lacks `event_id`, fails here until it is listed
//! with its reason.

use std::collections::BTreeMap;

use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use hallway::db::DbConn;

use crate::helpers::{Backend, postgres_available, spawn_app};

/// Event-scoped tables whose keys lack `event_id`, each offending key as `name (columns)`, and
/// why it is so today. Most are keyed by a UUIDv7 id, unique on its own; turning such a key into
/// `(event_id, id)` is the change distribution would need.
const LACKING: &[(&str, &[&str], &str)] = &[
    (
        "badges",
        &["badges_pkey (id)", "badges_code_key (code)", "badges_one_active (membership_id)"],
        "codes are unique across events (a code of another event reads as unknown)",
    ),
    ("blocks", &["blocks_pkey (blocker_id,blocked_id)"], "keyed by the two memberships"),
    ("connection_notes", &["connection_notes_pkey (id)"], "id"),
    ("connection_tombstones", &["connection_tombstones_pkey (connection_id)"], "connection id"),
    ("connections", &["connections_pkey (id)"], "id (its pair key has event_id)"),
    (
        "follow_ups",
        &[
            "follow_ups_pkey (id)",
            "follow_ups_one_post_event (connection_id)",
            "follow_ups_one_cadence (connection_id)",
        ],
        "id; one post-event and one cadence follow-up per connection",
    ),
    ("introductions", &["introductions_pkey (id)"], "id (its pending pair key has event_id)"),
    (
        "membership_topics",
        &["membership_topics_pkey (membership_id,topic_id,kind)"],
        "keyed by membership and topic, both of one event",
    ),
    ("memberships", &["memberships_pkey (id)"], "id (its account key has event_id)"),
    ("outbox", &["outbox_pkey (id)"], "id; mail of no event too (event_id may be null)"),
    (
        "people_dismissals",
        &["people_dismissals_pkey (membership_id,dismissed_id)"],
        "keyed by the two memberships",
    ),
    (
        "scans",
        &["scans_pkey (id)", "scans_scanner_id_client_scan_id_key (scanner_id,client_scan_id)"],
        "id; a scanner's client scan ids (the scanner is a membership of one event)",
    ),
    ("starter_shows", &["starter_shows_pkey (id)"], "id"),
    ("sync_counters", &["sync_counters_pkey (membership_id)"], "one counter per membership"),
    ("topics", &["topics_pkey (id)"], "id (its slug key has event_id)"),
    ("touches", &["touches_pkey (id)"], "id"),
];

/// Event-scoped tables that already comply (for the record; a new compliant table needs no entry).
const COMPLYING: &[&str] = &["event_departures", "prompt_counts", "starter_settings"];

/// Tables without `event_id`, and how each would be placed: `events` is the distribution root
/// (sharded by its id), the rest are per account or global (reference tables, or left on the
/// coordinator), or reach their event through a parent.
const WITHOUT_EVENT_ID: &[(&str, &str)] = &[
    ("__diesel_schema_migrations", "global: migrations"),
    ("accounts", "per account"),
    ("calendar_feeds", "per account"),
    ("digests_sent", "per account"),
    ("email_codes", "per email address"),
    ("events", "the root: sharded by id, which is every other table's event_id"),
    ("introduction_tokens", "event-scoped through introductions: needs event_id to be sharded"),
    ("rate_buckets", "per account or attendee: shared rate limits, not event data"),
    ("refresh_tokens", "per account"),
    ("sign_in_failures", "per client and email address"),
];

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    has_event_id: bool,
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Bool)]
    has_event_id: bool,
}

/// The tables of the schema, and whether each has an `event_id` column (information_schema).
const TABLES: &str = "\
SELECT t.table_name::text AS table_name,
       EXISTS (SELECT FROM information_schema.columns c
                WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name
                  AND c.column_name = 'event_id') AS has_event_id
  FROM information_schema.tables t
 WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'";

/// Every unique key: primary keys, unique constraints and unique indexes (partial ones too, which
/// information_schema does not list), with their columns.
const KEYS: &str = "\
SELECT c.relname::text AS table_name,
       i.indexrelid::regclass::text || ' (' || array_to_string(array(
           SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            ORDER BY k.n), ',') || ')' AS key,
       EXISTS (SELECT FROM pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attname = 'event_id'
                  AND a.attnum = ANY (i.indkey)) AS has_event_id
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
 WHERE i.indisunique AND c.relnamespace = current_schema()::regnamespace";

#[actix_web::test]
async fn every_event_scoped_table_is_classified_by_whether_event_id_is_in_its_keys() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let (tables, keys) = app.query(|conn| {
        let DbConn::Postgres(pg) = conn else { unreachable!() };
        let tables: Vec<Table> = diesel::sql_query(TABLES).load(pg)?;
        let keys: Vec<Key> = diesel::sql_query(KEYS).load(pg)?;
        Ok((tables, keys))
    });

    let mut without: Vec<&str> =
        tables.iter().filter(|t| !t.has_event_id).map(|t| t.table_name.as_str()).collect();
    without.sort_unstable();
    let expected: Vec<&str> = WITHOUT_EVENT_ID.iter().map(|(table, _)| *table).collect();
    assert_eq!(
        without, expected,
        "tables without event_id: say in WITHOUT_EVENT_ID how a new one would be placed"
    );

    let scoped: Vec<&str> =
        tables.iter().filter(|t| t.has_event_id).map(|t| t.table_name.as_str()).collect();
    let mut lacking: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for key in keys.iter().filter(|k| !k.has_event_id && scoped.contains(&k.table_name.as_str())) {
        lacking.entry(key.table_name.as_str()).or_default().push(key.key.as_str());
    }
    for found in lacking.values_mut() {
        found.sort_unstable();
    }
    let pinned: BTreeMap<&str, Vec<&str>> = LACKING
        .iter()
        .map(|(table, keys, _)| {
            let mut keys = keys.to_vec();
            keys.sort_unstable();
            (*table, keys)
        })
        .collect();
    assert_eq!(
        lacking, pinned,
        "event-scoped tables whose keys lack event_id: a new one must be listed in LACKING with \
         its reason (or keyed with event_id); a fixed one leaves the list"
    );
    for table in COMPLYING {
        assert!(scoped.contains(table) && !lacking.contains_key(table), "{table} complies");
    }
}
