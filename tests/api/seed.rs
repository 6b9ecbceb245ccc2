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
