//! What production refuses to start with: a guessable JWT secret, and mail that would carry
//! sign-in codes or relay credentials in clear (or not send them at all).

use anyhow::bail;

use super::MailTransport;

/// The least estimated entropy of a JWT secret accepted in production, in bits.
pub const MIN_JWT_SECRET_BITS: f64 = 128.0;

/// Why a JWT secret is too guessable to sign tokens in production, if it is: it repeats a shorter
/// sequence (`abcabc…`), or its estimated entropy — its length times the Shannon entropy of its
/// byte frequencies — is under [`MIN_JWT_SECRET_BITS`]. An estimate catches typed and patterned
/// secrets (32 × `a` is 0 bits), not every human-made one: a secret should come from a generator
/// (`openssl rand -hex 32` estimates about 245 bits, `openssl rand -base64 32` about 215).
pub(super) fn secret_weakness(secret: &[u8]) -> Option<String> {
    let len = secret.len();
    if let Some(period) = (1..=len / 2).find(|&p| secret[p..] == secret[..len - p]) {
        return Some(format!("it repeats a sequence of {period} bytes"));
    }
    let mut counts = [0usize; 256];
    for &byte in secret {
        counts[usize::from(byte)] += 1;
    }
    #[allow(clippy::cast_precision_loss)] // lengths far below 2^52
    let bits: f64 = counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = count as f64 / len as f64;
            -share * share.log2() * len as f64
        })
        .sum();
    (bits < MIN_JWT_SECRET_BITS).then(|| {
        format!(
            "its estimated entropy is {bits:.0} bits, under {MIN_JWT_SECRET_BITS:.0} \
             (use `openssl rand -hex 32`)"
        )
    })
}

/// Production mail must not expose what it carries (sign-in codes) or the relay's password:
/// `smtps://` and `smtp://…?tls=required` encrypt the whole session. Plain `smtp://` is accepted
/// only without credentials to a relay on loopback (an MTA on the same host, which relays onward
/// on its own terms): nothing then crosses a network in clear. `?tls=opportunistic` is refused —
/// an attacker on the path strips STARTTLS — and so is `file://`: a production server writing
/// sign-in codes to its disk instead of sending them is a misconfiguration, not a mode.
pub(super) fn refuse_unsafe_mail_in_production(mail: &MailTransport) -> anyhow::Result<()> {
    let url = match mail {
        MailTransport::File(_) => {
            bail!(
                "HALLWAY_MAIL=file://… writes mail to disk: not allowed when HALLWAY_ENV=production"
            )
        }
        MailTransport::Smtp(url) => url,
    };
    let Some(rest) = url.strip_prefix("smtp://") else { return Ok(()) };
    let (authority, query) = match rest.split_once('?') {
        Some((before, query)) => (before.split('/').next().unwrap_or_default(), query),
        None => (rest.split('/').next().unwrap_or_default(), ""),
    };
    // lettre reads the first `tls` parameter, and only `required` makes it insist on STARTTLS.
    let tls = query.split('&').find_map(|pair| pair.strip_prefix("tls="));
    if tls == Some("required") {
        return Ok(());
    }
    let (credentials, host) = match authority.rsplit_once('@') {
        Some((credentials, host)) => (Some(credentials), host),
        None => (None, authority),
    };
    if credentials.is_some() {
        bail!(
            "HALLWAY_MAIL sends SMTP credentials in clear: use smtps:// or smtp://…?tls=required \
             when HALLWAY_ENV=production"
        );
    }
    if !is_loopback(host) {
        bail!(
            "HALLWAY_MAIL sends mail (sign-in codes) in clear over the network: use smtps:// or \
             smtp://…?tls=required when HALLWAY_ENV=production (plain smtp:// only to a relay on \
             loopback)"
        );
    }
    Ok(())
}

/// Whether an SMTP URL's `host[:port]` names this machine.
fn is_loopback(host_and_port: &str) -> bool {
    let host = match host_and_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::tests::{STRONG, lookup, production};
    use super::*;

    #[test]
    fn production_refuses_weak_jwt_secrets() {
        for weak in [
            "a".repeat(32),
            "abcd".repeat(8),
            "0123456789abcdef".repeat(2),
            "password1234password1234password".to_owned(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefgh".to_owned(),
        ] {
            let error = production(&[("HALLWAY_JWT_SECRET", &weak)]).err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("too weak")),
                "{weak} was accepted: {error:?}"
            );
        }
    }

    #[test]
    fn generated_secrets_are_accepted_in_production() -> anyhow::Result<()> {
        for strong in [
            STRONG,
            "q7Xb0Vd2mP9sLk3RzT8wYc1HnE5uJa6G4fQiOeWx+Zo=",
            "test-secret-that-is-long-enough-for-hs256!",
        ] {
            assert_eq!(
                production(&[("HALLWAY_JWT_SECRET", strong)])?.jwt_secret,
                strong.as_bytes()
            );
        }
        Ok(())
    }

    #[test]
    fn development_accepts_a_weak_secret_with_a_warning() {
        let weak = "a".repeat(32);
        assert!(Config::from_lookup(lookup(&[("HALLWAY_JWT_SECRET", weak.as_str())])).is_ok());
    }

    #[test]
    fn production_refuses_mail_that_crosses_the_network_in_clear() {
        for unsafe_mail in [
            "smtp://user:pass@smtp.example.org:587",
            "smtp://user:pass@127.0.0.1:25",
            "smtp://user:pass@smtp.example.org?tls=opportunistic",
            "smtp://user:pass@smtp.example.org?tls=none&tls=required",
            "smtp://smtp.example.org:25",
            "smtp://mailpit:1025",
            "file:///var/lib/hallway/outbox",
        ] {
            assert!(
                production(&[("HALLWAY_MAIL", unsafe_mail)]).is_err(),
                "{unsafe_mail} was accepted"
            );
        }
    }

    #[test]
    fn production_accepts_encrypted_mail_and_a_plain_local_relay() -> anyhow::Result<()> {
        for safe_mail in [
            "smtps://user:pass@smtp.example.org:465",
            "smtp://user:p%40ss@smtp.example.org:587?tls=required",
            "smtp://smtp.example.org/ehlo.example.org?tls=required",
            "smtp://localhost:25",
            "smtp://127.0.0.1:25",
            "smtp://[::1]:25",
        ] {
            let config = production(&[("HALLWAY_MAIL", safe_mail)])?;
            assert_eq!(config.mail, MailTransport::Smtp(safe_mail.to_owned()));
        }
        Ok(())
    }
}
