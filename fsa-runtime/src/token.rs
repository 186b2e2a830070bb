//! Authentication tokens: FlaskSimpleAuth's "fsa" format and JWT.
//!
//! An fsa token is `<realm>[/<issuer>]:<login>:<limit>:<signature>` where `limit` is the UTC
//! expiry `YYYYMMDDHHmmSS` and the signature is the lower-case hex of the first
//! `FSA_TOKEN_LENGTH` bytes of the `FSA_TOKEN_ALGO` digest (default BLAKE2s-256, unkeyed) of
//! `<realm>[/<issuer>]:<login>:<limit>:<secret>`. This is byte-for-byte the Python library's
//! format (pinned by `tests/data/interop.json`); signatures are compared in constant time here.
//!
//! Digests come from the RustCrypto crates (`blake2`, `sha2`, `sha3`, `sha1`, `md-5`): they
//! are the maintained pure-Rust implementations and cover every `hashlib` name FlaskSimpleAuth
//! users are likely to have configured.
//!
//! JWTs are verified by the `jsonwebtoken` crate (claims `exp`, `sub` = login, `aud` = realm,
//! `iss` = issuer, optional `scope`, plus `nbf`/`iat` when present) with exactly one configured
//! algorithm, so `alg: none` and algorithm confusion (an HMAC token signed with a public key)
//! are refused. New JWTs are laid out exactly as PyJWT does (`{"alg":…,"typ":"JWT"}`, claims in
//! the order `exp`, `sub`, `aud`, `iss`, `scope`, JSON with ASCII escapes) and signed with
//! `jsonwebtoken::crypto::sign`, so the same inputs give byte-for-byte FlaskSimpleAuth's token.

use blake2::{Blake2b512, Blake2s256, Digest};
use sha2::{Sha224, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::config::{Config, ConfigError, TokenType};
use crate::error::Error;

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenInfo {
    /// The login.
    pub login: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Granted OAuth scopes (JWT `scope`).
    pub scopes: Option<Vec<String>>,
}

/// Options of [`App::create_token`](crate::App::create_token) and
/// [`Context::create_token`](crate::Context::create_token);
/// unset fields take the configuration's.
#[derive(Clone, Debug, Default)]
pub struct TokenOptions {
    /// The realm (default: `FSA_REALM` for [`App::create_token`](crate::App::create_token),
    /// the current route's realm for [`Context::create_token`](crate::Context::create_token)).
    pub realm: Option<String>,
    /// Lifetime in minutes (default `FSA_TOKEN_DELAY`).
    pub delay: Option<f64>,
    /// Issuer (default `FSA_TOKEN_ISSUER`).
    pub issuer: Option<String>,
    /// Signing secret (default `FSA_TOKEN_SECRET`).
    pub secret: Option<String>,
    /// JWT scopes.
    pub scopes: Option<Vec<String>>,
    /// Absolute expiry in seconds since the epoch, instead of now + delay (test vectors,
    /// tokens aligned on a session end).
    pub expires_at: Option<i64>,
}

impl TokenOptions {
    /// Options with this realm.
    pub fn realm(realm: impl Into<String>) -> Self {
        TokenOptions { realm: Some(realm.into()), ..Self::default() }
    }
    /// Sets the lifetime in minutes.
    pub fn delay(mut self, minutes: f64) -> Self {
        self.delay = Some(minutes);
        self
    }
    /// Sets the issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// Sets the scopes (JWT).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }
    /// Sets the secret (fsa and HMAC JWT: the shared secret; public-key JWT: the PEM
    /// private key).
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }
    /// Sets an absolute expiry (seconds since the epoch), overriding the delay.
    pub fn expires_at(mut self, exp: i64) -> Self {
        self.expires_at = Some(exp);
        self
    }
}

/// Simplifies a realm for fsa tokens as upstream does: runs of `[-A-Za-z0-9]` joined by `-`.
pub fn simplify_realm(realm: &str) -> String {
    realm
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .flat_map(|part| part.split('-'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Digest functions accepted by `FSA_TOKEN_ALGO` for fsa tokens: the digest of the
/// concatenated `parts` (hashed in place, without joining them first) in `out`, and its length.
fn digest(algo: &str, parts: &[&[u8]], out: &mut [u8; 64]) -> Option<usize> {
    fn run<D: Digest>(parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        let d = h.finalize();
        out[..d.len()].copy_from_slice(&d);
        d.len()
    }
    Some(match algo {
        "blake2s" => run::<Blake2s256>(parts, out),
        "blake2b" => run::<Blake2b512>(parts, out),
        "sha256" => run::<Sha256>(parts, out),
        "sha224" => run::<Sha224>(parts, out),
        "sha384" => run::<Sha384>(parts, out),
        "sha512" => run::<Sha512>(parts, out),
        "sha512_224" => run::<sha2::Sha512_224>(parts, out),
        "sha512_256" => run::<sha2::Sha512_256>(parts, out),
        "sha3_224" => run::<sha3::Sha3_224>(parts, out),
        "sha3_256" => run::<sha3::Sha3_256>(parts, out),
        "sha3_384" => run::<sha3::Sha3_384>(parts, out),
        "sha3_512" => run::<sha3::Sha3_512>(parts, out),
        "sha1" => run::<sha1::Sha1>(parts, out),
        "md5" => run::<md5::Md5>(parts, out),
        _ => return None,
    })
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// The latest expiry the `YYYYMMDDHHmmSS` form can write: 9999-12-31 23:59:59 UTC.
const LATEST_LIMIT: i64 = 253_402_300_799;

/// Formats an expiry as `YYYYMMDDHHmmSS` (UTC), within what four digits of year can write: a
/// later one is the latest (a token of a huge delay lasts, rather than being born expired), an
/// expiry before 1970 is 1970's first second (expired either way).
pub fn format_limit(exp: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(exp.clamp(0, LATEST_LIMIT)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{:04}{:02}{:02}{:02}{:02}{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute(), t.second())
}

/// Parses `YYYYMMDDHHmmSS` (UTC) into seconds since the epoch.
pub fn parse_limit(limit: &str) -> Option<i64> {
    if limit.len() != 14 || !limit.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| limit[r].parse::<u32>().ok();
    let month = time::Month::try_from(n(4..6)? as u8).ok()?;
    let date = time::Date::from_calendar_date(n(0..4)? as i32, month, n(6..8)? as u8).ok()?;
    let t = time::Time::from_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp())
}

/// Signs fsa-token data (`realm[/issuer]:login:limit`) with a secret.
pub fn fsa_signature(algo: &str, length: usize, data: &str, secret: &str) -> Option<String> {
    let mut d = [0u8; 64];
    let n = digest(algo, &[data.as_bytes(), b":", secret.as_bytes()], &mut d)?;
    Some(hex(&d[..length.min(n)]))
}

/// The current UNIX time in seconds with its fraction, for expiry checks.
fn now_precise() -> f64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Current time in whole seconds since the epoch (rounded down).
pub fn now() -> i64 {
    now_precise().floor() as i64
}

/// Creates and checks tokens according to the configuration.
pub struct Tokens {
    kind: Option<TokenType>,
    algo: String,
    length: usize,
    secret: String,
    delay: f64,
    grace: f64,
    issuer: Option<String>,
    /// The realm of tokens for routes without their own realm.
    pub(crate) default_realm: String,
    /// Random, per instance: tells this configuration's cached validations apart from any
    /// other's in an app's cache (see [`App::check_token_with`](crate::App::check_token_with)).
    pub(crate) cache_tag: String,
    #[cfg(feature = "jwt")]
    jwt: Option<JwtKeys>,
}

#[cfg(feature = "jwt")]
struct JwtKeys {
    alg: jsonwebtoken::Algorithm,
    encoding: Option<jsonwebtoken::EncodingKey>,
    decoding: jsonwebtoken::DecodingKey,
    /// Validation rules per (realm, issuer, leeway), built once: a `Validation` holds several
    /// hash sets of strings, too costly to rebuild on every check.
    validations: std::sync::RwLock<Vec<JwtValidation>>,
}

/// Validation rules for one realm, issuer and leeway.
#[cfg(feature = "jwt")]
type JwtValidation = ((String, Option<String>, u64), std::sync::Arc<jsonwebtoken::Validation>);

/// At most this many realms' validation rules are kept (realms come from the configuration and
/// the routes; a program checking tokens for arbitrary realms builds the extra ones each time).
#[cfg(feature = "jwt")]
const MAX_VALIDATIONS: usize = 64;

impl Tokens {
    /// Builds the token manager from the configuration.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let secret = match &config.token_secret {
            Some(s) => {
                if s.len() < 16 && config.token_type.is_some() {
                    startup_warn!("FSA_TOKEN_SECRET is shorter than 16 characters");
                }
                s.clone()
            }
            None => {
                let mut raw = [0u8; 32];
                getrandom::fill(&mut raw)
                    .map_err(|e| ConfigError(format!("no randomness for the token secret: {e}")))?;
                if config.token_type.is_some() {
                    startup_warn!(
                        "FSA_TOKEN_SECRET is not set: tokens use a random per-process secret, die with the process and are not shared between instances"
                    );
                }
                hex(&raw)
            }
        };
        let algo = config.token_algo().to_owned();
        let kind = config.token_type;
        // FlaskSimpleAuth takes any length; a signature of a few bytes can be guessed (two
        // bytes in some 33,000 tries on average).
        if kind == Some(TokenType::Fsa) && config.token_length < 8 {
            startup_warn!(
                "FSA_TOKEN_LENGTH is {} bytes: fsa token signatures this short can be guessed (16 is the default)",
                config.token_length
            );
        }
        let default_realm = match kind {
            Some(TokenType::Fsa) => simplify_realm(&config.realm),
            _ => config.realm.clone(),
        };
        if kind == Some(TokenType::Fsa) && digest(&algo, &[], &mut [0u8; 64]).is_none() {
            return Err(ConfigError(format!("unsupported FSA_TOKEN_ALGO for fsa tokens: {algo}")));
        }
        #[cfg(feature = "jwt")]
        let jwt = if kind == Some(TokenType::Jwt) {
            Some(JwtKeys::new(&algo, &secret, config.token_sign.as_deref())?)
        } else {
            None
        };
        #[cfg(not(feature = "jwt"))]
        if kind == Some(TokenType::Jwt) {
            return Err(ConfigError("FSA_TOKEN_TYPE=jwt needs the `jwt` feature of fsa".into()));
        }
        let mut tag = [0u8; 12];
        getrandom::fill(&mut tag).map_err(|e| ConfigError(format!("no randomness for the token cache tag: {e}")))?;
        Ok(Tokens {
            cache_tag: tag.iter().map(|b| format!("{b:02x}")).collect(),
            kind,
            algo,
            length: config.token_length,
            secret,
            delay: config.token_delay,
            grace: config.token_grace,
            issuer: config.token_issuer.clone(),
            default_realm,
            #[cfg(feature = "jwt")]
            jwt,
        })
    }

    /// Whether tokens are enabled.
    pub fn enabled(&self) -> bool {
        self.kind.is_some()
    }

    /// The token type.
    pub fn kind(&self) -> Option<TokenType> {
        self.kind
    }

    /// The configured lifetime in minutes.
    pub fn delay(&self) -> f64 {
        self.delay
    }

    /// Creates a token for `login` in `realm`.
    pub fn create(&self, login: &str, realm: &str, opts: &TokenOptions) -> Result<String, Error> {
        let delay = opts.delay.unwrap_or(self.delay);
        let exp = opts.expires_at.unwrap_or_else(|| now().saturating_add((delay * 60.0) as i64));
        let issuer = opts.issuer.as_deref().or(self.issuer.as_deref());
        let secret = opts.secret.as_deref().unwrap_or(&self.secret);
        match self.kind {
            None => Err(Error::internal("tokens are disabled (FSA_TOKEN_TYPE)")),
            Some(TokenType::Fsa) => {
                let realm_part = match issuer {
                    Some(i) if !i.is_empty() => format!("{realm}/{i}"),
                    _ => realm.to_owned(),
                };
                let data = format!("{realm_part}:{login}:{}", format_limit(exp));
                let sig = fsa_signature(&self.algo, self.length, &data, secret)
                    .ok_or_else(|| Error::internal("bad token algorithm"))?;
                Ok(format!("{data}:{sig}"))
            }
            #[cfg(feature = "jwt")]
            Some(TokenType::Jwt) => {
                let keys = self.jwt.as_ref().ok_or_else(|| Error::internal("no JWT keys"))?;
                keys.create(login, realm, exp, issuer, opts.scopes.as_deref(), opts.secret.as_deref())
            }
            #[cfg(not(feature = "jwt"))]
            Some(TokenType::Jwt) => Err(Error::internal("jwt feature disabled")),
        }
    }

    /// Checks a token for `realm` and returns what it says. Every failure is a 401 except a
    /// malformed fsa expiry, which upstream reports as 400.
    pub fn check(&self, token: &str, realm: &str) -> Result<TokenInfo, Error> {
        match self.kind {
            None => Err(Error::unauthorized("tokens are disabled")),
            Some(TokenType::Fsa) => self.check_fsa(token, realm),
            #[cfg(feature = "jwt")]
            Some(TokenType::Jwt) => match &self.jwt {
                Some(k) => k.check(token, realm, self.issuer.as_deref(), self.grace),
                None => Err(Error::unauthorized("no JWT keys")),
            },
            #[cfg(not(feature = "jwt"))]
            Some(TokenType::Jwt) => Err(Error::unauthorized("jwt feature disabled")),
        }
    }

    fn check_fsa(&self, token: &str, realm: &str) -> Result<TokenInfo, Error> {
        // Same checks, order and messages as upstream (minus the token echoed in messages).
        if token.bytes().filter(|b| *b == b':').count() != 3 {
            return Err(Error::unauthorized("invalid fsa token"));
        }
        let mut parts = token.splitn(4, ':');
        let (Some(realm_part), Some(login), Some(limit), Some(sig)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::unauthorized("invalid fsa token"));
        };
        // FlaskSimpleAuth answers 400 for a malformed expiry; like every other token failure it
        // is a 401 here, so that a client never learns more from a forged token than "invalid".
        if limit.len() != 14 || !limit.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::unauthorized(format!("unexpected timestamp format: {limit}")));
        }
        let exp =
            parse_limit(limit).ok_or_else(|| Error::unauthorized(format!("unexpected fsa token limit: {limit}")))?;
        let expected_realm = match self.issuer.as_deref() {
            Some(i) if !i.is_empty() => format!("{realm}/{i}"),
            _ => realm.to_owned(),
        };
        if realm_part != expected_realm {
            return Err(Error::unauthorized(format!("unexpected fsa token realm: {realm_part}")));
        }
        let data = &token[..token.len() - sig.len() - 1];
        let expected = fsa_signature(&self.algo, self.length, data, &self.secret)
            .ok_or_else(|| Error::internal("unsupported token algorithm"))?;
        if !bool::from(expected.as_bytes().ct_eq(sig.as_bytes())) {
            return Err(Error::unauthorized("invalid fsa auth token signature"));
        }
        if !self.still_valid_at(exp) {
            return Err(Error::unauthorized("expired fsa auth token"));
        }
        Ok(TokenInfo { login: login.to_owned(), exp, scopes: None })
    }

    /// Whether a checked token is still valid now (expiry is re-checked after cache hits).
    pub fn still_valid(&self, info: &TokenInfo) -> bool {
        self.still_valid_at(info.exp)
    }

    /// Whether a token expiring at `exp` (whole seconds) is valid now, the grace time added.
    /// As in FlaskSimpleAuth, which compares the current instant to the second of expiry, a
    /// token is expired once that second has begun: `now` keeps its fraction.
    fn still_valid_at(&self, exp: i64) -> bool {
        now_precise() - self.grace * 60.0 <= exp as f64
    }
}

/// Claims of a new JWT, in PyJWT's order.
#[cfg(feature = "jwt")]
#[derive(serde::Serialize)]
struct Claims<'a> {
    exp: i64,
    sub: &'a str,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

#[cfg(feature = "jwt")]
#[derive(serde::Deserialize)]
struct ReadClaims {
    exp: f64,
    sub: String,
    #[serde(default)]
    iat: Option<f64>,
    /// Read to check its type only: jsonwebtoken also takes an array holding the issuer.
    #[serde(default)]
    iss: Option<serde_json::Value>,
    /// A string when present: a `null` scope is refused, as PyJWT's caller splits it.
    #[serde(default, deserialize_with = "present_string")]
    scope: Option<String>,
}

/// A claim that may be absent but, when present, must be a string (not `null`).
#[cfg(feature = "jwt")]
fn present_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(Some)
}

/// JSON as Python's `json.dumps(…, separators=(",", ":"))` writes it: `serde_json`'s compact
/// text with the characters Python escapes beyond it escaped too
/// ([`push_python_ascii`](crate::response::push_python_ascii)).
#[cfg(feature = "jwt")]
fn python_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    let text = serde_json::to_string(value).map_err(Error::internal)?;
    let mut out = String::with_capacity(text.len());
    crate::response::push_python_ascii(&mut out, &text);
    Ok(out)
}

#[cfg(feature = "jwt")]
fn encoding_key(
    alg: jsonwebtoken::Algorithm,
    key: &str,
) -> Result<jsonwebtoken::EncodingKey, jsonwebtoken::errors::Error> {
    use jsonwebtoken::{Algorithm as A, EncodingKey};
    match alg {
        A::HS256 | A::HS384 | A::HS512 => EncodingKey::from_secret(key.as_bytes()),
        A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512 => EncodingKey::from_rsa_pem(key.as_bytes()),
        A::ES256 | A::ES384 => EncodingKey::from_ec_pem(key.as_bytes()),
        A::EdDSA => EncodingKey::from_ed_pem(key.as_bytes()),
        _ => Err(jsonwebtoken::errors::ErrorKind::UnsupportedAlgorithm.into()),
    }
}

#[cfg(feature = "jwt")]
impl JwtKeys {
    fn new(algo: &str, secret: &str, sign: Option<&str>) -> Result<Self, ConfigError> {
        use jsonwebtoken::{Algorithm as A, DecodingKey};
        let alg: A = algo.parse().map_err(|_| ConfigError(format!("unsupported JWT algorithm: {algo}")))?;
        let bad = |e: jsonwebtoken::errors::Error| ConfigError(format!("invalid JWT key for {algo}: {e}"));
        let decoding = match alg {
            A::HS256 | A::HS384 | A::HS512 => DecodingKey::from_secret(secret.as_bytes()).map_err(bad)?,
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512 => {
                DecodingKey::from_rsa_pem(secret.as_bytes()).map_err(bad)?
            }
            A::ES256 | A::ES384 => DecodingKey::from_ec_pem(secret.as_bytes()).map_err(bad)?,
            A::EdDSA => DecodingKey::from_ed_pem(secret.as_bytes()).map_err(bad)?,
            _ => return Err(ConfigError(format!("unsupported JWT algorithm: {algo}"))),
        };
        let encoding = match alg {
            A::HS256 | A::HS384 | A::HS512 => Some(encoding_key(alg, secret).map_err(bad)?),
            _ => match sign {
                Some(k) => Some(encoding_key(alg, k).map_err(bad)?),
                None => {
                    startup_warn!(
                        "FSA_TOKEN_SIGN is not set: {algo} tokens can be checked but not created (third-party issuer)"
                    );
                    None
                }
            },
        };
        Ok(JwtKeys { alg, encoding, decoding, validations: Default::default() })
    }

    fn create(
        &self,
        login: &str,
        realm: &str,
        exp: i64,
        issuer: Option<&str>,
        scopes: Option<&[String]>,
        secret: Option<&str>,
    ) -> Result<String, Error> {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes());
        let alg = serde_json::to_string(&self.alg).map_err(Error::internal)?;
        let header = format!("{{\"alg\":{alg},\"typ\":\"JWT\"}}");
        let claims = Claims {
            exp,
            sub: login,
            aud: realm,
            iss: issuer.filter(|i| !i.is_empty()),
            scope: scopes.filter(|s| !s.is_empty()).map(|s| s.join(" ")),
        };
        let message = format!("{}.{}", b64(&header), b64(&python_json(&claims)?));
        let override_key;
        let key = match secret {
            Some(s) => {
                override_key = encoding_key(self.alg, s).map_err(Error::internal)?;
                &override_key
            }
            None => self.encoding.as_ref().ok_or_else(|| Error::internal("no JWT signing key (FSA_TOKEN_SIGN)"))?,
        };
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), key, self.alg).map_err(Error::internal)?;
        Ok(format!("{message}.{sig}"))
    }

    fn validation(&self, realm: &str, issuer: Option<&str>, leeway: u64) -> std::sync::Arc<jsonwebtoken::Validation> {
        let read = self.validations.read().unwrap_or_else(|p| p.into_inner());
        let found = read.iter().find(|((r, i, l), _)| r == realm && i.as_deref() == issuer && *l == leeway);
        if let Some((_, v)) = found {
            return v.clone();
        }
        drop(read);
        let mut v = jsonwebtoken::Validation::new(self.alg);
        v.set_audience(&[realm]);
        v.leeway = leeway;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "sub", "aud"]);
        if let Some(i) = issuer {
            v.set_issuer(&[i]);
            v.required_spec_claims.insert("iss".to_owned());
        }
        let v = std::sync::Arc::new(v);
        let mut write = self.validations.write().unwrap_or_else(|p| p.into_inner());
        if write.len() < MAX_VALIDATIONS {
            write.push(((realm.to_owned(), issuer.map(str::to_owned), leeway), v.clone()));
        }
        v
    }

    fn check(&self, token: &str, realm: &str, issuer: Option<&str>, grace: f64) -> Result<TokenInfo, Error> {
        let leeway = (grace * 60.0).max(0.0) as u64;
        let v = self.validation(realm, issuer.filter(|i| !i.is_empty()), leeway);
        let data = jsonwebtoken::decode::<ReadClaims>(token, &self.decoding, &v).map_err(|e| {
            Error::unauthorized(match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired jwt auth token",
                _ => "invalid jwt token",
            })
        })?;
        let c = data.claims;
        // PyJWT's token is expired once its `exp` second has begun (`exp <= now`, `now` with
        // its fraction); jsonwebtoken still takes it during that second.
        if c.exp.trunc() <= now_precise() - grace.max(0.0) * 60.0 {
            return Err(Error::unauthorized("expired jwt auth token"));
        }
        // PyJWT refuses tokens issued in the future; jsonwebtoken does not look at `iat`.
        if c.iat.is_some_and(|iat| iat > (now() as f64) + leeway as f64) {
            return Err(Error::unauthorized("invalid jwt token"));
        }
        // An expected issuer must be the `iss` string itself, as PyJWT wants; jsonwebtoken has
        // compared it already, and also takes an array that holds it.
        if v.iss.is_some() && !matches!(c.iss, Some(serde_json::Value::String(_))) {
            return Err(Error::unauthorized("invalid jwt token"));
        }
        Ok(TokenInfo {
            login: c.sub,
            exp: c.exp as i64,
            scopes: c.scope.map(|s| s.split(' ').map(str::to_owned).collect()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_simplification() {
        assert_eq!(simplify_realm("Demo App!"), "Demo-App");
        assert_eq!(simplify_realm("  my--app__v2  "), "my-app-v2");
        assert_eq!(simplify_realm("été"), "t");
        assert_eq!(simplify_realm("!!!"), "");
    }

    #[test]
    fn limits_beyond_the_form_are_clamped() {
        assert_eq!(format_limit(i64::MAX), "99991231235959");
        assert_eq!(parse_limit(&format_limit(i64::MAX)), Some(LATEST_LIMIT));
        assert_eq!(format_limit(-5), "19700101000000");
    }

    #[test]
    fn limit_round_trip() {
        let exp = parse_limit("20991231235959").unwrap();
        assert_eq!(format_limit(exp), "20991231235959");
        assert!(parse_limit("20991331235959").is_none());
        assert!(parse_limit("2099123123595").is_none());
    }
}
