//! Database access: SQLite (default, the file `stuff.db`) or PostgreSQL (a `postgres://` URL).
//!
//! Driver: [sqlx](https://docs.rs/sqlx) with the `sqlite`, `postgres` and `runtime-tokio`
//! features only: it is async (the reactor is never blocked), well kept, bundles SQLite (nothing
//! to install) and speaks PostgreSQL natively. The compile-time checked `query!` macros are not
//! used, so building needs no database.
//!
//! Each resource module keeps its SQL next to its handlers as [`Q`] constants (one text for both
//! databases, or one per dialect). Handlers get a [`Db`] argument: a transaction for the request,
//! begun on first use, committed when the response status is below 400 and rolled back
//! otherwise (by a [`Context::on_response`] finalizer, so handlers never commit).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fsa::{App, Context, Error, Special};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::{Mutex, MutexGuard};

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Pool {
    /// SQLite (one connection, as the original).
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// One query, with its text for each dialect (`$1`, `$2`… placeholders work in both).
#[derive(Clone, Copy, Debug)]
pub struct Q {
    sqlite: &'static str,
    postgres: &'static str,
}

impl Q {
    /// A query written the same way for both databases.
    pub const fn same(sql: &'static str) -> Q {
        Q { sqlite: sql, postgres: sql }
    }

    /// A query with a text per dialect.
    pub const fn each(sqlite: &'static str, postgres: &'static str) -> Q {
        Q { sqlite, postgres }
    }
}

/// A query argument.
#[derive(Clone, Debug)]
pub enum Arg {
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A text or NULL.
    OptText(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(v.clone())
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_owned())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::OptText(v)
    }
}

/// Builds the argument list of a query: `args![login, 3]`.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => { ::std::vec![$($crate::db::Arg::from($e)),*] };
}

/// A row type readable from both databases (tuples of `i64`, `String`, `bool`, `Option<…>`).
pub trait Row:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

macro_rules! bind {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Database errors are server errors (constraint violations included), logged.
fn db_error(e: sqlx::Error) -> Error {
    tracing::error!(target: "demo", "database error: {e}");
    Error::internal(format!("database error: {e}"))
}

/// A unit of work on the database: one transaction, begun on first use.
///
/// As a handler argument it is the request's transaction (see the module documentation).
/// Handlers that change what authentication or authorization depend on (passwords, emails,
/// admin flags, deleted users) call [`Db::users_changed`]: the app's caches are then emptied
/// right after the commit, so the very next request sees the change.
pub struct Db {
    pool: Pool,
    tx: Arc<Mutex<Option<Tx>>>,
    uncache: Arc<AtomicBool>,
}

impl Db {
    /// A unit of work on this pool (hooks use one per lookup, handlers get the request's).
    pub fn new(pool: Pool) -> Db {
        Db { pool, tx: Arc::new(Mutex::new(None)), uncache: Arc::new(AtomicBool::new(false)) }
    }

    /// Whether the database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Asks for the authentication caches to be emptied after the commit.
    pub fn users_changed(&self) {
        self.uncache.store(true, Ordering::Relaxed);
    }

    async fn tx(&self) -> Result<MutexGuard<'_, Option<Tx>>, Error> {
        let mut guard = self.tx.lock().await;
        if guard.is_none() {
            *guard = Some(match &self.pool {
                Pool::Sqlite(p) => Tx::Sqlite(p.begin().await.map_err(db_error)?),
                Pool::Postgres(p) => Tx::Postgres(p.begin().await.map_err(db_error)?),
            });
        }
        Ok(guard)
    }

    /// All rows of a query.
    pub async fn all<T: Row>(&self, q: Q, args: Vec<Arg>) -> Result<Vec<T>, Error> {
        let mut guard = self.tx().await?;
        match guard.as_mut() {
            Some(Tx::Sqlite(tx)) => bind!(sqlx::query_as::<Sqlite, T>(q.sqlite), args).fetch_all(&mut **tx).await,
            Some(Tx::Postgres(tx)) => bind!(sqlx::query_as::<Postgres, T>(q.postgres), args).fetch_all(&mut **tx).await,
            None => return Err(Error::internal("no transaction")),
        }
        .map_err(db_error)
    }

    /// The first row of a query, if any.
    pub async fn one<T: Row>(&self, q: Q, args: Vec<Arg>) -> Result<Option<T>, Error> {
        let mut guard = self.tx().await?;
        match guard.as_mut() {
            Some(Tx::Sqlite(tx)) => bind!(sqlx::query_as::<Sqlite, T>(q.sqlite), args).fetch_optional(&mut **tx).await,
            Some(Tx::Postgres(tx)) => {
                bind!(sqlx::query_as::<Postgres, T>(q.postgres), args).fetch_optional(&mut **tx).await
            }
            None => return Err(Error::internal("no transaction")),
        }
        .map_err(db_error)
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn exec(&self, q: Q, args: Vec<Arg>) -> Result<u64, Error> {
        let mut guard = self.tx().await?;
        match guard.as_mut() {
            Some(Tx::Sqlite(tx)) => {
                bind!(sqlx::query::<Sqlite>(q.sqlite), args).execute(&mut **tx).await.map(|r| r.rows_affected())
            }
            Some(Tx::Postgres(tx)) => {
                bind!(sqlx::query::<Postgres>(q.postgres), args).execute(&mut **tx).await.map(|r| r.rows_affected())
            }
            None => return Err(Error::internal("no transaction")),
        }
        .map_err(db_error)
    }

    /// Ends the unit of work: commit, or roll back. Nothing happens if it never began.
    pub async fn finish(&self, commit: bool) -> Result<(), Error> {
        let tx = self.tx.lock().await.take();
        let result = match (tx, commit) {
            (None, _) => Ok(()),
            (Some(Tx::Sqlite(tx)), true) => tx.commit().await,
            (Some(Tx::Postgres(tx)), true) => tx.commit().await,
            (Some(Tx::Sqlite(tx)), false) => tx.rollback().await,
            (Some(Tx::Postgres(tx)), false) => tx.rollback().await,
        };
        result.map_err(db_error)
    }
}

impl Special for Db {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        let pool = ctx.app().state::<Pool>().ok_or_else(|| Error::internal("no database pool registered"))?;
        let db = Db::new((*pool).clone());
        let work = Db { pool: db.pool.clone(), tx: db.tx.clone(), uncache: db.uncache.clone() };
        let app = ctx.app().clone();
        ctx.on_response(move |status| async move { work.end_request(&app, status.as_u16() < 400).await });
        Ok(db)
    }
}

impl Db {
    async fn end_request(&self, app: &App, ok: bool) -> Result<(), Error> {
        self.finish(ok).await?;
        if ok && self.uncache.load(Ordering::Relaxed) {
            app.clear_caches().await;
        }
        Ok(())
    }
}

const SCHEMA_SQLITE: &str = "
DROP TABLE IF EXISTS Stuff;
DROP TABLE IF EXISTS Auth;
CREATE TABLE Stuff(
  sid INTEGER PRIMARY KEY,
  sname TEXT NOT NULL
);
CREATE TABLE Auth(
  aid INTEGER PRIMARY KEY,
  login TEXT UNIQUE NOT NULL CHECK (login NOT LIKE '%@%'),
  email TEXT UNIQUE NOT NULL CHECK (email LIKE '%@%'),
  admin BOOLEAN NOT NULL DEFAULT FALSE,
  upass TEXT NOT NULL,
  secret TEXT NOT NULL,
  last_otp TEXT NULL,
  code TEXT NULL,
  codets TIMESTAMP NULL,
  CHECK ((code IS NULL) = (codets IS NULL))
);
";

const SCHEMA_POSTGRES: &str = "
DROP TABLE IF EXISTS Stuff;
DROP TABLE IF EXISTS Auth;
CREATE TABLE Stuff(
  sid BIGSERIAL PRIMARY KEY,
  sname TEXT NOT NULL
);
CREATE TABLE Auth(
  aid BIGSERIAL PRIMARY KEY,
  login TEXT UNIQUE NOT NULL CHECK (login NOT LIKE '%@%'),
  email TEXT UNIQUE NOT NULL CHECK (email LIKE '%@%'),
  admin BOOLEAN NOT NULL DEFAULT FALSE,
  upass TEXT NOT NULL,
  secret TEXT NOT NULL,
  last_otp TEXT NULL,
  code TEXT NULL,
  codets TIMESTAMP NULL,
  CHECK ((code IS NULL) = (codets IS NULL))
);
";

/// Where the data lives.
#[derive(Clone, Debug, Default)]
pub struct DbSettings {
    /// `DATABASE_URL`: a `postgres://` URL, a `sqlite:` URL or a file path (default `stuff.db`).
    pub url: Option<String>,
    /// PostgreSQL only: the schema to work in (`search_path`), e.g. a scratch schema for tests.
    pub schema: Option<String>,
}

/// Connects; the second value tells whether the schema must be created (missing database).
pub async fn connect(settings: &DbSettings) -> Result<(Pool, bool), sqlx::Error> {
    let url = settings.url.as_deref().unwrap_or("stuff.db");
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(schema) = &settings.schema {
            opts = opts.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new().max_connections(5).connect_with(opts).await?;
        let exists: Option<(String,)> = sqlx::query_as(
            "SELECT table_name::TEXT FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'auth'",
        )
        .fetch_optional(&pool)
        .await?;
        return Ok((Pool::Postgres(pool), exists.is_none()));
    }
    let opts = match url.strip_prefix("sqlite:") {
        Some(_) => SqliteConnectOptions::from_str(url)?,
        None => SqliteConnectOptions::new().filename(url),
    };
    let absent = !Path::new(opts.get_filename()).exists();
    let opts = opts.create_if_missing(true);
    // One connection, as the original: requests are serialized on it, so SQLite never
    // answers "database is locked". Hooks and handlers never hold it at the same time
    // (the request's transaction begins in the handler, after the hooks ran).
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
    Ok((Pool::Sqlite(pool), absent))
}

/// Creates the tables (dropping old ones) and the seed rows of the specification.
pub async fn create_schema(app: &App, pool: &Pool) -> Result<(), Error> {
    match pool {
        Pool::Sqlite(p) => sqlx::raw_sql(SCHEMA_SQLITE).execute(p).await.map(|_| ()),
        Pool::Postgres(p) => sqlx::raw_sql(SCHEMA_POSTGRES).execute(p).await.map(|_| ()),
    }
    .map_err(db_error)?;
    let db = Db::new(pool.clone());
    for sname in ["Hello", "World", "!"] {
        db.exec(Q::same("INSERT INTO Stuff(sname) VALUES ($1)"), args![sname]).await?;
    }
    for (login, password, secret) in [("foo", "bla", "FOOSECRETFOOSECRET"), ("bla", "foo", "BLASECRETBLASECRET")] {
        let hash = app.hash_password_unchecked(password).await?;
        db.exec(
            Q::same("INSERT INTO Auth(login, email, upass, admin, secret) VALUES ($1, $2, $3, TRUE, $4)"),
            args![login, format!("{login}@school.org"), hash, secret],
        )
        .await?;
    }
    db.finish(true).await
}

/// A row id from the path (`/stuff/<sid>`, `/auth/<aid>`): decimal digits, as the original's
/// `int` converter takes them. Python's `int` has no bound, so digits beyond `i64` name a row
/// that cannot exist, and the route answers as for any missing row (`no such sid: N`, or the
/// 204 of a `DELETE`), where an `i64` parameter would answer a 404 of its own before the
/// handler runs.
#[derive(Clone, Debug, PartialEq)]
pub enum RowId {
    /// An id that a row may have.
    Row(i64),
    /// Digits beyond `i64`, written as Python writes the integer (no leading zeros, ASCII).
    Beyond(String),
}

impl RowId {
    /// The id, when a row may have it.
    pub fn row(&self) -> Option<i64> {
        match self {
            RowId::Row(id) => Some(*id),
            RowId::Beyond(_) => None,
        }
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowId::Row(id) => write!(f, "{id}"),
            RowId::Beyond(digits) => f.write_str(digits),
        }
    }
}

impl fsa::Scalar for RowId {
    fn type_name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("int")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        <i64 as fsa::Scalar>::from_text(text).map(RowId::Row)
    }
    fn path_segment_ok(segment: &str) -> bool {
        <i64 as fsa::Scalar>::path_segment_ok(segment)
    }
    fn from_path(segment: &str) -> Result<Self, String> {
        match <i64 as fsa::Scalar>::from_path(segment) {
            Ok(id) => Ok(RowId::Row(id)),
            // Decimal digits (of any script) that `i64` cannot hold.
            Err(_) if Self::path_segment_ok(segment) => Ok(RowId::Beyond(python_int_text(segment))),
            Err(e) => Err(e),
        }
    }
}

/// A segment of decimal digits of any script, beyond `i64`, as Python's `str(int(segment))`
/// writes it: ASCII digits without leading zeros (there is a non-zero one).
fn python_int_text(segment: &str) -> String {
    fsa::params::ascii_decimals(segment).trim_start_matches('0').to_owned()
}
