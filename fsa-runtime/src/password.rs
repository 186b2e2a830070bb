//! Password hashing and checking.
//!
//! `FSA_PASSWORD_SCHEME`:
//! - `bcrypt` (default): the `bcrypt` crate (pure Rust, the reference Rust implementation),
//!   cost 4 and `$2b$` like FlaskSimpleAuth 36; `FSA_PASSWORD_OPTS` `rounds` (4..31) and
//!   `prefix` (`2a`, `2b`, `2y`); verifies `$2a$`, `$2b$`, `$2x$` and `$2y$` hashes. bcrypt only
//!   reads 72 bytes: longer passwords are refused when hashing (400) and never match when
//!   checking (401), instead of silently matching on their first 72 bytes.
//! - `argon2`: RustCrypto's `argon2` crate (pure Rust, PHC strings), argon2id with
//!   FlaskSimpleAuth's defaults `memory_cost` 1000 KiB, `time_cost` 1, `parallelism` 1
//!   (`FSA_PASSWORD_OPTS`); verifies any `$argon2i$`/`$argon2d$`/`$argon2id$` PHC string, such as
//!   those made by argon2-cffi.
//! - `plaintext` (tests only, with a startup warning), or none (no stored-hash checks: the
//!   `password_check` hook alone decides).
//!
//! Hashing and verifying run on tokio's blocking pool so the reactor never waits for them. New
//! passwords go through the quality rules (`FSA_PASSWORD_LENGTH`, `FSA_PASSWORD_RE`, the
//! `password_quality` hook) in [`App::hash_password`](crate::App::hash_password).

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
        /// The version written in new hashes: `2a`, `2b` (default) or `2y`.
        prefix: BcryptPrefix,
    },
    /// argon2id with these parameters.
    Argon2 {
        /// Memory in KiB.
        memory_cost: u32,
        /// Iterations.
        time_cost: u32,
        /// Lanes.
        parallelism: u32,
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
                let opts = &config.password_opts;
                check_opts(opts, &["rounds", "prefix", "ident"])?;
                let cost = int_opt(opts, "rounds", 4, 4..=31)?;
                let prefix = match opts.get("prefix").or_else(|| opts.get("ident")) {
                    None => BcryptPrefix::TwoB,
                    Some(toml::Value::String(p)) => match p.trim_matches('$') {
                        "2a" => BcryptPrefix::TwoA,
                        "2b" => BcryptPrefix::TwoB,
                        "2y" => BcryptPrefix::TwoY,
                        other => {
                            return Err(ConfigError(format!(
                                "FSA_PASSWORD_OPTS prefix must be 2a, 2b or 2y, got {other}"
                            )));
                        }
                    },
                    Some(v) => return Err(ConfigError(format!("FSA_PASSWORD_OPTS prefix must be a string, got {v}"))),
                };
                Ok(Self::Bcrypt { cost, prefix })
            }
            Some("argon2") => {
                if !cfg!(feature = "password") {
                    return Err(ConfigError("FSA_PASSWORD_SCHEME=argon2 needs the `password` feature of fsa".into()));
                }
                let opts = &config.password_opts;
                check_opts(opts, &["memory_cost", "time_cost", "parallelism"])?;
                let memory_cost = int_opt(opts, "memory_cost", 1000, 8..=4_194_304)?;
                let time_cost = int_opt(opts, "time_cost", 1, 1..=1000)?;
                let parallelism = int_opt(opts, "parallelism", 1, 1..=255)?;
                if memory_cost < 8 * parallelism {
                    return Err(ConfigError("FSA_PASSWORD_OPTS memory_cost must be at least 8 × parallelism".into()));
                }
                Ok(Self::Argon2 { memory_cost, time_cost, parallelism })
            }
            Some("plaintext") => {
                startup_warn!("FSA_PASSWORD_SCHEME=plaintext stores clear passwords: for tests only");
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
            Self::Bcrypt { cost, prefix } => {
                if password.len() > BCRYPT_MAX_BYTES {
                    return Err(Error::bad_request(format!("password is longer than {BCRYPT_MAX_BYTES} bytes")));
                }
                bcrypt_hash(password, *cost, *prefix)
            }
            Self::Argon2 { memory_cost, time_cost, parallelism } => {
                argon2_hash(password, *memory_cost, *time_cost, *parallelism)
            }
        }
    }

    /// Checks a password against a stored hash (blocking). A malformed hash is `false`.
    pub fn verify_blocking(&self, password: &str, hash: &str) -> bool {
        match self {
            Self::Disabled => false,
            Self::Plaintext => subtle::ConstantTimeEq::ct_eq(password.as_bytes(), hash.as_bytes()).into(),
            Self::Bcrypt { .. } | Self::Argon2 { .. } => {
                if hash.starts_with("$argon2") {
                    argon2_verify(password, hash)
                } else {
                    password.len() <= BCRYPT_MAX_BYTES && bcrypt_verify(password, hash)
                }
            }
        }
    }

    /// Whether checks are cheap enough to run on the reactor.
    pub fn is_cheap(&self) -> bool {
        !matches!(self, Self::Bcrypt { .. } | Self::Argon2 { .. })
    }
}

/// The `$2?$` version written in new bcrypt hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BcryptPrefix {
    /// `$2a$`.
    TwoA,
    /// `$2b$` (default).
    TwoB,
    /// `$2y$`.
    TwoY,
}

fn check_opts(opts: &std::collections::BTreeMap<String, toml::Value>, known: &[&str]) -> Result<(), ConfigError> {
    match opts.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => {
            Err(ConfigError(format!("unexpected FSA_PASSWORD_OPTS option {k} (expected one of {})", known.join(", "))))
        }
        None => Ok(()),
    }
}

fn int_opt(
    opts: &std::collections::BTreeMap<String, toml::Value>,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    match opts.get(name) {
        None => Ok(default),
        Some(toml::Value::Integer(i)) if u32::try_from(*i).is_ok_and(|i| range.contains(&i)) => Ok(*i as u32),
        Some(v) => Err(ConfigError(format!(
            "FSA_PASSWORD_OPTS {name} must be an integer in {}..={}, got {v}",
            range.start(),
            range.end()
        ))),
    }
}

#[cfg(feature = "password")]
fn bcrypt_hash(password: &str, cost: u32, prefix: BcryptPrefix) -> Result<String, Error> {
    let version = match prefix {
        BcryptPrefix::TwoA => bcrypt::Version::TwoA,
        BcryptPrefix::TwoB => bcrypt::Version::TwoB,
        BcryptPrefix::TwoY => bcrypt::Version::TwoY,
    };
    bcrypt::hash_with_result(password, cost).map(|h| h.format_for_version(version)).map_err(Error::internal)
}

#[cfg(not(feature = "password"))]
fn bcrypt_hash(_password: &str, _cost: u32, _prefix: BcryptPrefix) -> Result<String, Error> {
    Err(Error::internal("bcrypt needs the `password` feature"))
}

#[cfg(feature = "password")]
fn argon2_hash(password: &str, m: u32, t: u32, p: u32) -> Result<String, Error> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let params = argon2::Params::new(m, t, p, None).map_err(Error::internal)?;
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    hasher.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(Error::internal)
}

#[cfg(not(feature = "password"))]
fn argon2_hash(_password: &str, _m: u32, _t: u32, _p: u32) -> Result<String, Error> {
    Err(Error::internal("argon2 needs the `password` feature"))
}

/// Verifies a PHC argon2 string; its own parameters (variant, memory, time, lanes) are used.
#[cfg(feature = "password")]
fn argon2_verify(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(not(feature = "password"))]
fn argon2_verify(_password: &str, _hash: &str) -> bool {
    false
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
        PasswordScheme::Bcrypt { .. } | PasswordScheme::Argon2 { .. } => {
            scheme.hash_blocking("fsa dummy password").ok()
        }
        _ => None,
    }
}

#[cfg(all(test, feature = "password"))]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_round_trip_and_prefixes() {
        let s = PasswordScheme::Bcrypt { cost: 4, prefix: BcryptPrefix::TwoB };
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
        let s = PasswordScheme::Bcrypt { cost: 4, prefix: BcryptPrefix::TwoB };
        let long = "x".repeat(73);
        assert_eq!(s.hash_blocking(&long).unwrap_err().status(), 400);
        let h = s.hash_blocking(&"x".repeat(72)).unwrap();
        assert!(!s.verify_blocking(&long, &h));
    }
}
