//! The text of each email Hallway sends.

use super::Outgoing;
use crate::domain::Email;

pub fn sign_in_code(to: &Email, code: &str, valid_minutes: i64) -> Outgoing {
    Outgoing {
        kind: "sign_in_code",
        recipient: to.to_string(),
        subject: format!("Your Hallway sign-in code: {code}"),
        body_text: format!(
            "Your Hallway sign-in code is\n\n    {code}\n\nIt works for {valid_minutes} minutes. \
             If you did not ask for it, ignore this email: nobody can sign in without the code.\n"
        ),
    }
}
