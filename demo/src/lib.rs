//! The FlaskSimpleAuth demo, ported to fsa: a small REST service where authentication,
//! authorization and typed parameters are declared on each route and handlers only deal with
//! data.
//!
//! One module per resource, as the original: [`base`] (version, time, identity, upload),
//! [`stuff`], [`users`], [`auth`], [`scare`] (self-care), [`oauth`] (jwt mode), [`mfa`] (fsa
//! mode) and [`types`]; the authentication and authorization hooks are in [`hooks`], the
//! database access and the per-request transaction in [`db`].
//!
//! Environment (see [`Settings::from_env`]): `PORT` (5000), `DEMO_TOKEN` (`jwt` or `fsa`),
//! `DATABASE_URL` (default the SQLite file `stuff.db`; `postgres://…` for PostgreSQL),
//! `DEMO_INIT` (`1`, the default: recreate the database at start, as the specification's seed
//! state; `0`: keep an existing one), `OTP_DIGITS` (6).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

use fsa::App;

pub mod auth;
pub mod base;
pub mod db;
pub mod hooks;
pub mod mfa;
pub mod oauth;
pub mod scare;
pub mod stuff;
pub mod types;
pub mod users;

pub use db::{DbSettings, Pool};

/// The token secret of the specification.
pub const SECRET: &str = "demo application secret for signing tokens";

/// Token mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// JWT HS256 in `Authorization: Bearer`; `/oauth` routes.
    #[default]
    Jwt,
    /// fsa tokens in the `AUTH` parameter; `/mfa` routes.
    Fsa,
}

impl std::str::FromStr for TokenMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jwt" => Ok(TokenMode::Jwt),
            "fsa" => Ok(TokenMode::Fsa),
            other => Err(format!("unknown token mode {other:?}, expecting jwt or fsa")),
        }
    }
}

impl TokenMode {
    /// The `WWW-Authenticate` value of every 401 (spec §1): `Basic realm="demo"`, and in jwt
    /// mode `Bearer realm="demo"` too.
    pub fn challenge(self) -> fsa::http::HeaderValue {
        fsa::http::HeaderValue::from_static(match self {
            TokenMode::Jwt => r#"Basic realm="demo", Bearer realm="demo""#,
            TokenMode::Fsa => r#"Basic realm="demo""#,
        })
    }
}

/// Number of MFA code and TOTP digits (state of the `/mfa` routes).
#[derive(Clone, Copy, Debug)]
pub struct Mfa {
    /// Digits.
    pub digits: u32,
}

/// Where uploads and MFA code files go (the working directory by default).
#[derive(Clone, Debug)]
pub struct UploadDir(pub PathBuf);

impl UploadDir {
    /// The path of a file in the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// Everything the demo needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Token mode.
    pub mode: TokenMode,
    /// Database.
    pub db: DbSettings,
    /// Recreate the database from scratch at start (the default); else create it only when
    /// absent.
    pub init: bool,
    /// MFA digits.
    pub otp_digits: u32,
    /// Upload directory.
    pub upload_dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: TokenMode::Jwt,
            db: DbSettings::default(),
            init: true,
            otp_digits: 6,
            upload_dir: PathBuf::from("."),
        }
    }
}

impl Settings {
    /// Reads `DEMO_TOKEN`, `DATABASE_URL`, `DEMO_INIT` and `OTP_DIGITS`.
    pub fn from_env() -> Result<Settings, String> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let mut s = Settings::default();
        if let Some(m) = var("DEMO_TOKEN") {
            s.mode = m.parse()?;
        }
        s.db.url = var("DATABASE_URL");
        s.init = match var("DEMO_INIT").as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            // Anything else might be meant either way, and one way loses the data.
            Some(_) => return Err("DEMO_INIT: expecting 1 (recreate the database) or 0 (keep it)".into()),
        };
        if let Some(d) = var("OTP_DIGITS") {
            s.otp_digits = d.parse().ok().filter(|d| (1..=10).contains(d)).ok_or("OTP_DIGITS: expecting 1 to 10")?;
        }
        Ok(s)
    }
}

/// A start-up failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The fsa configuration of the demo for a token mode (no database involved).
pub fn configure(builder: fsa::AppBuilder, mode: TokenMode) -> fsa::AppBuilder {
    let builder = builder
        .config("FSA_REALM", "demo")
        .config("FSA_AUTHZ_GROUPS", vec!["ADMIN"])
        .config("FSA_PASSWORD_SCHEME", "bcrypt")
        .config("FSA_PASSWORD_LENGTH", 2)
        .config("FSA_PASSWORD_RE", vec!["[a-zA-Z]"])
        .config("FSA_TOKEN_SECRET", SECRET)
        .config("FSA_TOKEN_DELAY", 60.0)
        .add_header("Service", "Demo/1.0")
        .after_request(move |_, resp| {
            // The spec's challenge on every 401, whatever schemes the route takes: fsa lists a
            // route's own (none on a route of fsa tokens alone, which are no header scheme).
            if resp.status() == fsa::http::StatusCode::UNAUTHORIZED {
                resp.headers_mut().insert(fsa::http::header::WWW_AUTHENTICATE, mode.challenge());
            }
        });
    match mode {
        TokenMode::Jwt => builder
            .config("FSA_AUTH", vec!["token", "basic", "oauth", "none"])
            .config("FSA_TOKEN_TYPE", "jwt")
            .config("FSA_TOKEN_ISSUER", "fabien")
            .add_scope("read")
            .add_scope("write")
            .add_scope("delete"),
        TokenMode::Fsa => builder
            .config("FSA_AUTH", vec!["token", "basic", "none"])
            .config("FSA_TOKEN_TYPE", "fsa")
            .config("FSA_TOKEN_CARRIER", "param"),
    }
}

/// All routes of a token mode.
pub fn routes(mode: TokenMode) -> Vec<fsa::RouteDef> {
    let mut all =
        [base::routes(), stuff::routes(), users::routes(), auth::routes(), scare::routes(), types::routes()].concat();
    all.extend(match mode {
        TokenMode::Jwt => oauth::routes(),
        TokenMode::Fsa => mfa::routes(),
    });
    all
}

/// Connects to the database (creating it from scratch when [`Settings::init`] asks, or when it
/// is absent) and builds the app.
pub async fn build(settings: &Settings) -> Result<App, BoxError> {
    let (pool, absent) = db::connect(&settings.db).await?;
    let app = hooks::register(configure(App::new(), settings.mode), &pool)
        .state(pool.clone())
        .state(Mfa { digits: settings.otp_digits })
        .state(UploadDir(settings.upload_dir.clone()))
        .routes(routes(settings.mode))
        .build()?;
    if settings.init || absent {
        tracing::info!(target: "demo", "creating the database from scratch");
        db::create_schema(&app, &pool).await?;
    }
    Ok(app)
}

/// Adds a user or resets its password (and admin flag when given): the original's `pass.py`.
/// It edits the database as it is (creating it when absent), whatever [`Settings::init`] says;
/// a server started with `DEMO_INIT=0` then keeps the change. Returns a line telling what was
/// done.
pub async fn set_password(
    settings: &Settings,
    login: &str,
    password: &str,
    email: Option<&str>,
    admin: Option<bool>,
) -> Result<String, BoxError> {
    let app = build(&Settings { init: false, ..settings.clone() }).await?;
    let pool = app.state::<Pool>().ok_or("no pool")?;
    let hash = app.hash_password(password).await?;
    let db = db::Db::new((*pool).clone());
    let done = if db.exec(users::SET_PASS, args![&hash, login]).await? > 0 {
        if let Some(admin) = admin {
            db.exec(db::Q::same("UPDATE Auth SET admin = $1 WHERE login = $2 OR email = $2"), args![admin, login])
                .await?;
        }
        format!("password of {login} reset")
    } else {
        let email = email.map(str::to_owned).unwrap_or_else(|| format!("{login}@school.org"));
        let mut secret = [0u8; 10];
        getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
        let secret = data_encoding::BASE32_NOPAD.encode(&secret);
        db.exec(users::ADD_NO_RETURN, args![login, email, &hash, admin.unwrap_or(false), secret]).await?;
        format!("user {login} added")
    };
    db.finish(true).await?;
    Ok(done)
}
