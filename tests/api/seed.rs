//! Test data written straight to the database, for states the API would take long to reach (an
//! event of hundreds, thousands of notes) or that its limits would not let a test build quickly.

use diesel::prelude::*;
use hallway::db::accounts::{self, NewAccount};
use hallway::db::connections::{self as store, Note};
use hallway::db::schema::connections;
use hallway::domain::attendees::add_member;
use hallway::domain::events::Role;
use hallway::domain::tokens::TokenKeys;

use crate::helpers::{JWT_SECRET, TestApp, unique_email};

/// A member of an event with an access token, made without signing in.
pub struct Person {
    pub access_token: String,
}

/// `n` new people with accounts, each a member of the event in `role`, with a badge.
pub fn people(app: &TestApp, event_id: &str, role: Role, n: usize) -> Vec<Person> {
    let keys = TokenKeys::new(JWT_SECRET.as_bytes());
    let mut conn = app.db.get().unwrap();
    conn.transaction::<_, hallway::error::Error, _>(|conn| {
        (0..n)
            .map(|i| {
                let account_id = hallway::db::new_id();
                let email = unique_email(&format!("seeded{i}"));
                let now = hallway::db::now();
                let name = format!("Seeded {i}");
                accounts::insert(
                    conn,
                    &NewAccount {
                        id: &account_id,
                        email: &email,
                        display_name: Some(&name),
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                add_member(conn, event_id, &account_id, role, None)?;
                let access_token = keys.issue(&account_id, chrono::Utc::now())?;
                Ok(Person { access_token })
            })
            .collect()
    })
    .unwrap()
}

/// Writes `n` notes on a connection and counts them, as the API would have.
pub fn notes(app: &TestApp, connection_id: &str, n: i32) {
    let mut conn = app.db.get().unwrap();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let event_id: String =
            connections::table.find(connection_id).select(connections::event_id).first(conn)?;
        let now = hallway::db::now();
        let notes: Vec<Note> = (0..n)
            .map(|i| Note {
                id: hallway::db::new_id(),
                connection_id: connection_id.to_owned(),
                event_id: event_id.clone(),
                body: format!("seeded note {i}"),
                written_at: now,
                created_at: now,
            })
            .collect();
        store::insert_notes(conn, &notes)?;
        diesel::update(connections::table.find(connection_id))
            .set(connections::note_count.eq(connections::note_count + n))
            .execute(conn)?;
        Ok(())
    })
    .unwrap();
}

/// For each connection of `account_id`, `per_connection` follow-ups cycling through the states
/// (open, done with a completion, snoozed, dismissed), and every tenth connection a touch:
/// written as the API would have, in one transaction.
pub fn follow_ups(
    app: &TestApp,
    account_id: &str,
    connection_ids: &[String],
    per_connection: usize,
) {
    use hallway::db::follow_ups::{NewFollowUp, Touch};
    use hallway::db::schema::follow_ups;
    let mut conn = app.db.get().unwrap();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let now = hallway::db::now();
        let due = now + chrono::Duration::days(30);
        let mut rows = Vec::new();
        let mut done = Vec::new();
        let mut snoozed = Vec::new();
        let mut logged = Vec::new();
        for (c, connection_id) in connection_ids.iter().enumerate() {
            let (event_id, owner_id): (String, String) = connections::table
                .find(connection_id)
                .select((connections::event_id, connections::owner_id))
                .first(conn)?;
            for i in 0..per_connection {
                let state = ["open", "done", "snoozed", "dismissed"][(c + i) % 4];
                let id = hallway::db::new_id();
                match state {
                    "done" => done.push(id.clone()),
                    "snoozed" => snoozed.push(id.clone()),
                    _ => {}
                }
                rows.push(NewFollowUp {
                    id,
                    event_id: event_id.clone(),
                    connection_id: connection_id.clone(),
                    owner_id: owner_id.clone(),
                    account_id: account_id.to_owned(),
                    kind: "send",
                    note: Some(format!("seeded follow-up {i}")),
                    due_on: None,
                    due_at: Some(due),
                    queue_at: due,
                    state,
                    is_open: matches!(state, "open" | "snoozed"),
                    origin: "manual",
                    origin_starter_id: None,
                    created_at: now,
                    updated_at: now,
                });
            }
            if c % 10 == 0 {
                logged.push(Touch {
                    id: hallway::db::new_id(),
                    event_id,
                    connection_id: connection_id.clone(),
                    owner_id,
                    account_id: account_id.to_owned(),
                    note: Some("seeded touch".to_owned()),
                    happened_at: now,
                    happened_on: now.date(),
                    created_at: now,
                });
            }
        }
        hallway::db::follow_ups::insert_unless_taken(conn, &rows)?;
        for chunk in done.chunks(500) {
            diesel::update(follow_ups::table.filter(follow_ups::id.eq_any(chunk)))
                .set((
                    follow_ups::completed_at.eq(Some(now)),
                    follow_ups::completion_note.eq(Some("seeded completion")),
                ))
                .execute(conn)?;
        }
        for chunk in snoozed.chunks(500) {
            diesel::update(follow_ups::table.filter(follow_ups::id.eq_any(chunk)))
                .set(follow_ups::snoozed_until.eq(Some(due)))
                .execute(conn)?;
        }
        for touch in &logged {
            hallway::db::follow_ups::insert_touch(conn, touch)?;
        }
        Ok(())
    })
    .unwrap();
}
