//! Cursor pagination: `limit` and `cursor` in, `next_cursor` out. Cursors are the id of the last
//! item of the previous page (ids are time-ordered UUIDs); clients treat them as opaque.

use crate::error::{Error, Result};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// Checks `limit` (1 to 100, default 50) and `cursor` (one this API returned).
pub fn check(limit: Option<i64>, cursor: Option<String>) -> Result<(i64, Option<String>)> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid_field("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    if let Some(cursor) = &cursor
        && uuid::Uuid::parse_str(cursor).is_err()
    {
        return Err(Error::invalid_field("cursor", "is not a cursor this API returned"));
    }
    Ok((limit, cursor))
}

/// Cuts `rows` (fetched with `limit + 1`) to a page, and names the cursor of the next one.
pub fn split<T>(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|row| id(row).to_owned()) } else { None };
    (rows, next)
}
