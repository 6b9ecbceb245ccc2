//! Email addresses, normalised to lower case.

use std::fmt;

/// A syntactically valid email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The longest address SMTP can carry (RFC 5321).
pub const MAX_LEN: usize = 254;

impl Email {
    /// Parses an address: one `@`, a local part of at most 64 characters, a domain with a dot and
    /// no empty labels, no spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err("must not be empty");
        }
        if value.len() > MAX_LEN {
            return Err("must be at most 254 characters");
        }
        if value.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        }) {
            return Err("must not contain spaces, quotes, commas or angle brackets");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("must contain an @");
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err("must be of the form name@example.org");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err("must have a domain such as example.org");
        }
        // What the mailer will parse when it sends: an address it would refuse is refused now,
        // not retried by the worker.
        if value.parse::<lettre::Address>().is_err() {
            return Err("is not an address mail can be sent to");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").map(|e| e.to_string()),
            Ok("ada@example.org".to_owned())
        );
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "ada@@example.org",
            "ada@-x.org",
            "ada@x..org",
            "<ada@example.org>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
        // Passes the checks above, but the mail library could never send to it.
        assert!("a..b@example.org".parse::<lettre::Address>().is_err());
        assert!(Email::parse("a..b@example.org").is_err());
    }
}
