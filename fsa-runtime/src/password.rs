//! Password hashing and checking.
//!
//! `FSA_PASSWORD_SCHEME`: `bcrypt` (default; the `bcrypt` crate, cost 4 and `$2b$` like
//! FlaskSimpleAuth 36, verifying `$2a$`, `$2b$`, `$2x$` and `$2y$`), `plaintext` (tests only,
//! with a startup warning) or none. Hashing and verifying run on tokio's blocking pool so the
//! reactor never waits for bcrypt. New passwords go through the quality rules
//! (`FSA_PASSWORD_LENGTH`, `FSA_PASSWORD_RE`, the `password_quality` hook) in
//! [`App::hash_password`](crate::App::hash_password).

use crate::config::{Config, ConfigError};
use crate::error::Error;

/// bcrypt hashes only the first 72 bytes; longer passwords are refused explicitly.
pub const BCRYPT_MAX_BYTES: usize = 72;

/// The configured password scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordScheme {
    /// No password checking.
    Disabled,
    /// bcrypt with this cost.
    Bcrypt {
        /// The cost (log2 rounds).
        cost: u32,
    },
    /// Stored as is (tests only).
    Plaintext,
}

impl PasswordScheme {
    /// From `FSA_PASSWORD_SCHEME` and `FSA_PASSWORD_OPTS`.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        match config.password_scheme.as_deref() {
            None => Ok(Self::Disabled),
            Some("bcrypt") => {
                if !cfg!(feature = "password") {
                    return Err(ConfigError("FSA_PASSWORD_SCHEME=bcrypt needs the `password` feature of fsa".into()));
                }
                let cost = match config.password_opts.get("rounds") {
                    Some(toml::Value::Integer(i)) if (4..=31).contains(i) => *i as u32,
                    Some(v) => return Err(ConfigError(format!("FSA_PASSWORD_OPTS rounds must be 4..31, got {v}"))),
                    None => 4,
                };
                Ok(Self::Bcrypt { cost })
            }
            Some("plaintext") => {
                tracing::warn!(target: "fsa", "FSA_PASSWORD_SCHEME=plaintext stores clear passwords: for tests only");
                Ok(Self::Plaintext)
            }
            Some(other) => Err(ConfigError(format!("unsupported FSA_PASSWORD_SCHEME: {other}"))),
        }
    }

    /// Hashes a password (blocking: call from a blocking thread).
    pub fn hash_blocking(&self, password: &str) -> Result<String, Error> {
        match self {
            Self::Disabled => Err(Error::internal("password hashing is disabled")),
            Self::Plaintext => Ok(password.to_owned()),
            Self::Bcrypt { cost } => {
                if password.len() > BCRYPT_MAX_BYTES {
                    return Err(Error::bad_request(format!("password is longer than {BCRYPT_MAX_BYTES} bytes")));
                }
                bcrypt_hash(password, *cost)
            }
        }
    }

    /// Checks a password against a stored hash (blocking). A malformed hash is `false`.
    pub fn verify_blocking(&self, password: &str, hash: &str) -> bool {
        match self {
            Self::Disabled => false,
            Self::Plaintext => subtle::ConstantTimeEq::ct_eq(password.as_bytes(), hash.as_bytes()).into(),
            Self::Bcrypt { .. } => password.len() <= BCRYPT_MAX_BYTES && bcrypt_verify(password, hash),
        }
    }

    /// Whether checks are cheap enough to run on the reactor.
    pub fn is_cheap(&self) -> bool {
        !matches!(self, Self::Bcrypt { .. })
    }
}

#[cfg(feature = "password")]
fn bcrypt_hash(password: &str, cost: u32) -> Result<String, Error> {
    bcrypt::hash_with_result(password, cost)
        .map(|h| h.format_for_version(bcrypt::Version::TwoB))
        .map_err(Error::internal)
}

#[cfg(not(feature = "password"))]
fn bcrypt_hash(_password: &str, _cost: u32) -> Result<String, Error> {
    Err(Error::internal("bcrypt needs the `password` feature"))
}

#[cfg(feature = "password")]
fn bcrypt_verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

#[cfg(not(feature = "password"))]
fn bcrypt_verify(_password: &str, _hash: &str) -> bool {
    false
}

/// A hash that costs the same to check as a real one, used for unknown logins so that they
/// take as long as wrong passwords.
pub(crate) fn dummy_hash(scheme: &PasswordScheme) -> Option<String> {
    match scheme {
        PasswordScheme::Bcrypt { cost } => bcrypt_hash("fsa dummy password", *cost).ok(),
        _ => None,
    }
}

#[cfg(all(test, feature = "password"))]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_round_trip_and_prefixes() {
        let s = PasswordScheme::Bcrypt { cost: 4 };
        let h = s.hash_blocking("hobbes").unwrap();
        assert!(h.starts_with("$2b$04$"), "{h}");
        assert!(s.verify_blocking("hobbes", &h));
        assert!(!s.verify_blocking("calvin", &h));
        let y = h.replacen("$2b$", "$2y$", 1);
        assert!(s.verify_blocking("hobbes", &y));
        assert!(!s.verify_blocking("hobbes", "not a hash"));
    }

    #[test]
    fn long_passwords_are_refused_not_truncated() {
        let s = PasswordScheme::Bcrypt { cost: 4 };
        let long = "x".repeat(73);
        assert_eq!(s.hash_blocking(&long).unwrap_err().status(), 400);
        let h = s.hash_blocking(&"x".repeat(72)).unwrap();
        assert!(!s.verify_blocking(&long, &h));
    }
}
