//! Stuff: a list of names, for any authenticated user.

use fsa::prelude::*;

use crate::args;
use crate::db::{Db, Q, RowId};

/// SQLite's `LIKE`, which the specification names: ASCII letters match either case, other
/// letters only themselves, and no escape character. PostgreSQL's `ILIKE` would fold every
/// letter (`été` matching `Été`) and its `LIKE` takes `\` as an escape, so there both sides are
/// lowercased in ASCII only, with no escape.
const LIST: Q = Q::each(
    "SELECT sid, sname FROM Stuff WHERE $1 = '' OR sname LIKE $1 ORDER BY sid",
    "SELECT sid, sname FROM Stuff WHERE $1 = '' \
     OR translate(sname, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') \
        LIKE translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') ESCAPE '' \
     ORDER BY sid",
);
const ADD: Q = Q::same("INSERT INTO Stuff(sname) VALUES ($1) RETURNING sid");
const GET: Q = Q::same("SELECT sname FROM Stuff WHERE sid = $1");
const SET: Q = Q::same("UPDATE Stuff SET sname = $1 WHERE sid = $2");
const DEL: Q = Q::same("DELETE FROM Stuff WHERE sid = $1");

/// The longest `LIKE` pattern, once its runs of `%` are one: SQLite refuses longer ones
/// (`SQLITE_MAX_LIKE_PATTERN_LENGTH`), which must be the client's 400, not the database's 500.
const PATTERN_MAX: usize = 50_000;

/// The most `%` wildcards in a `LIKE` pattern. Both databases match a `%` by a recursive call,
/// one deeper for each: about 16,000 of them overflowed the stack of the SQLite thread and
/// killed the server (PostgreSQL stops at its `max_stack_depth` with an error), where a name
/// is matched by a handful. Counted once the runs of `%` are one (`%%%` matches what `%`
/// matches, neither database having an escape character here).
const PATTERN_WILDCARDS_MAX: usize = 1_000;

/// `pattern` with each run of `%` written as one `%`: the same matches, one recursion.
fn merge_wildcards(pattern: String) -> String {
    if !pattern.contains("%%") {
        return pattern;
    }
    let mut merged = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '%' && merged.ends_with('%')) {
            merged.push(c);
        }
    }
    merged
}

/// `[sid, sname]` pairs, filtered with SQL `LIKE` when a pattern is given.
#[get("/stuff", authorize = "AUTH")]
async fn get_stuff(db: Db, pattern: Option<String>) -> Result<Json<Vec<(i64, String)>>> {
    let pattern = merge_wildcards(pattern.unwrap_or_default());
    if pattern.len() > PATTERN_MAX {
        return Err(Error::bad_request(format!("parameter \"pattern\" is longer than {PATTERN_MAX} bytes")));
    }
    if pattern.bytes().filter(|&b| b == b'%').count() > PATTERN_WILDCARDS_MAX {
        return Err(Error::bad_request(format!(
            "parameter \"pattern\" holds more than {PATTERN_WILDCARDS_MAX} \"%\" wildcards"
        )));
    }
    Ok(Json(db.all(LIST, args![pattern]).await?))
}

/// Adds a name, answers its sid.
#[post("/stuff", authorize = "AUTH")]
async fn post_stuff(db: Db, sname: String) -> Result<(Json<i64>, u16)> {
    let (sid,): (i64,) = db.one(ADD, args![sname]).await?.ok_or_else(|| Error::internal("no sid"))?;
    Ok((Json(sid), 201))
}

/// `[sname]` of one sid.
#[get("/stuff/<sid>", authorize = "AUTH")]
async fn get_stuff_sid(db: Db, sid: RowId) -> Result<Json<(String,)>> {
    let found = match sid.row() {
        Some(id) => db.one(GET, args![id]).await?,
        None => None,
    };
    found.map(Json).ok_or_else(|| Error::not_found(format!("no such sid: {sid}")))
}

/// Renames one sid.
#[patch("/stuff/<sid>", authorize = "AUTH")]
async fn patch_stuff_sid(db: Db, sid: RowId, sname: String) -> Result<((), u16)> {
    let changed = match sid.row() {
        Some(id) => db.exec(SET, args![sname, id]).await?,
        None => 0,
    };
    match changed {
        0 => Err(Error::not_found(format!("no such sid: {sid}"))),
        _ => Ok(((), 204)),
    }
}

/// Deletes one sid (204 even if it does not exist).
#[delete("/stuff/<sid>", authorize = "AUTH")]
async fn delete_stuff_sid(db: Db, sid: RowId) -> Result<((), u16)> {
    if let Some(id) = sid.row() {
        db.exec(DEL, args![id]).await?;
    }
    Ok(((), 204))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_stuff, post_stuff, get_stuff_sid, patch_stuff_sid, delete_stuff_sid]
}
