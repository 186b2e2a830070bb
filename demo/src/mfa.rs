//! Multi-factor authentication (fsa token mode only, under `/mfa`).
//!
//! Step 1, `GET /mfa/login` (basic): a temporary token of realm `mfa`, valid one minute, and a
//! code written to `./IDENTITY_code.txt` (standing for a mail or a text message). Step 2,
//! `POST /mfa/code` or `POST /mfa/totp` with that token: a token of realm `demo`, good for
//! `GET /mfa/test`. TOTP is RFC 6238 (HMAC-SHA1, 30 s steps, D digits, base32 secret) with
//! `hmac` + `sha1` + `data-encoding`, three small RustCrypto-style crates, instead of a TOTP crate.

use fsa::TokenOptions;
use fsa::prelude::*;
use hmac::{Hmac, Mac};

use crate::args;
use crate::db::{Db, Q};
use crate::{Mfa, UploadDir};

const SET_CODE: Q = Q::each(
    "UPDATE Auth SET code = $1, codets = CURRENT_TIMESTAMP WHERE login = $2",
    "UPDATE Auth SET code = $1, codets = now() AT TIME ZONE 'UTC' WHERE login = $2",
);
const USE_CODE: Q = Q::each(
    "UPDATE Auth SET code = NULL, codets = NULL \
     WHERE login = $1 AND code = $2 AND codets > datetime('now', '-1 minute')",
    "UPDATE Auth SET code = NULL, codets = NULL \
     WHERE login = $1 AND code = $2 AND codets > (now() AT TIME ZONE 'UTC') - INTERVAL '1 minute'",
);
const OTP: Q = Q::same("SELECT secret, last_otp FROM Auth WHERE login = $1");
const SET_OTP: Q = Q::same("UPDATE Auth SET last_otp = $1 WHERE login = $2");

/// A random code of `digits` decimal digits, zero-padded.
fn random_code(digits: u32) -> Result<String> {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).map_err(Error::internal)?;
    let n = u64::from_le_bytes(buf) % 10u64.pow(digits);
    Ok(format!("{n:0width$}", width = digits as usize))
}

/// The RFC 6238 TOTP of a base32 secret at a 30 s time step.
pub fn totp(secret: &str, step: u64, digits: u32) -> Option<String> {
    let mut spec = data_encoding::BASE32_NOPAD.specification();
    spec.check_trailing_bits = false;
    let key = spec.encoding().ok()?.decode(secret.trim_end_matches('=').to_ascii_uppercase().as_bytes()).ok()?;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    Some(format!("{:0width$}", u64::from(bin) % 10u64.pow(digits), width = digits as usize))
}

/// The current 30 s time step.
pub fn current_step() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 30).unwrap_or(0)
}

/// The longest file name of the usual file systems (ext4, XFS, Btrfs, tmpfs: `NAME_MAX`), in
/// bytes.
const NAME_MAX: usize = 255;

/// Step 1: stores a new code for the identity and answers a one-minute `mfa` token.
#[get("/mfa/login", authorize = "AUTH", auth = "basic")]
async fn get_mfa_login(
    db: Db,
    app: App,
    user: CurrentUser,
    mfa: State<Mfa>,
    dir: State<UploadDir>,
) -> Result<Json<String>> {
    // The identity names a file of the code directory: not a path elsewhere, nor a name the
    // file system refuses (a NUL byte, more than 255 bytes), which is the client's 400.
    let file = format!("{user}_code.txt");
    if user.contains(['/', '\\', '\0']) || user.starts_with('.') || file.len() > NAME_MAX {
        return Err(Error::bad_request("cannot set user code"));
    }
    let code = random_code(mfa.digits)?;
    if db.exec(SET_CODE, args![&code, &*user]).await? != 1 {
        return Err(Error::bad_request("cannot set user code"));
    }
    tokio::fs::write(dir.file(&file), &code).await?;
    Ok(Json(app.create_token(&user, TokenOptions::realm("mfa").delay(1.0))?))
}

/// Step 2 by code: the pending code, younger than a minute, gives a `demo` token.
#[post("/mfa/code", authorize = "AUTH", auth = "token", realm = "mfa")]
async fn post_mfa_code(db: Db, app: App, user: CurrentUser, code: String) -> Result<Json<String>> {
    if db.exec(USE_CODE, args![&*user, code]).await? != 1 {
        return Err(Error::unauthorized(format!("invalid temporary code for {user}")));
    }
    Ok(Json(app.create_token(&user, TokenOptions::realm("demo"))?))
}

/// Step 2 by TOTP: a fresh one-time password gives a `demo` token.
#[post("/mfa/totp", authorize = "AUTH", auth = "token", realm = "mfa")]
async fn post_mfa_totp(db: Db, app: App, user: CurrentUser, otp: String, mfa: State<Mfa>) -> Result<Json<String>> {
    let (secret, last): (String, Option<String>) =
        db.one(OTP, args![&*user]).await?.ok_or_else(|| Error::unauthorized(format!("invalid OTP code for {user}")))?;
    if last.as_deref() == Some(otp.as_str()) {
        return Err(Error::unauthorized(format!("rejected OTP replay attack on {user}")));
    }
    let now = current_step();
    let valid =
        [now.saturating_sub(1), now, now + 1].iter().any(|s| totp(&secret, *s, mfa.digits).as_ref() == Some(&otp));
    if !valid {
        return Err(Error::unauthorized(format!("invalid OTP code for {user}")));
    }
    db.exec(SET_OTP, args![otp, &*user]).await?;
    Ok(Json(app.create_token(&user, TokenOptions::realm("demo"))?))
}

/// Where the second factor leads.
#[get("/mfa/test", authorize = "AUTH", auth = "token")]
fn get_mfa_test(user: CurrentUser) -> String {
    format!("MFA succeeded for {user}!")
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_mfa_login, post_mfa_code, post_mfa_totp, get_mfa_test]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, secret "12345678901234567890", 8 digits.
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        assert_eq!(totp(&secret, 59 / 30, 8).as_deref(), Some("94287082"));
        assert_eq!(totp(&secret, 1111111109 / 30, 8).as_deref(), Some("07081804"));
        assert_eq!(totp(&secret, 20000000000 / 30, 8).as_deref(), Some("65353130"));
        assert_eq!(totp(&secret, 59 / 30, 6).as_deref(), Some("287082"));
        assert!(totp("FOOSECRETFOOSECRET", 1, 6).is_some());
    }
}
