//! Rules of the product: who may do what, and what valid data looks like.
//!
//! Request data is parsed into the types here at the edge (`Email`, `Slug`…), so that a value of
//! such a type is valid by construction. Functions that touch storage take a `&mut DbConn` and are
//! called inside one transaction by the HTTP layer.
//!
//! A rejection that must still commit its writes (a wrong sign-in code counts an attempt; a reused
//! refresh token revokes its family) is returned as `Ok(Err(..))`, so the transaction commits
//! before the error reaches the client.

pub mod accounts;
pub mod attendees;
pub mod auth;
pub mod badges;
pub mod calendar;
pub mod connections;
pub mod contacts;
pub mod content_line;
pub mod email;
pub mod events;
pub mod exchange;
pub mod follow_ups;
pub mod ical;
pub mod import;
pub mod introductions;
pub mod my_data;
pub mod organizing;
pub mod quotas;
pub mod starters;
pub mod text;
pub mod tokens;
pub mod topics;
pub mod vcard;

pub use email::Email;
