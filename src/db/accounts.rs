//! Accounts: people known by email.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::accounts;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an account; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(AsChangeset, Default)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub display_name: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Account>> {
    accounts::table.find(id).select(Account::as_select()).first(conn).optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, account: &NewAccount<'_>) -> QueryResult<()> {
    diesel::insert_into(accounts::table).values(account).execute(conn).map(drop)
}

pub fn update(conn: &mut DbConn, id: &str, changes: &AccountChanges) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id)).set(changes).execute(conn)
}
