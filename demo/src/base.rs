//! Open routes: version, database time, current identity, file upload.

use fsa::UploadedFile;
use fsa::prelude::*;

use crate::UploadDir;
use crate::db::{Db, Q};

const NOW: Q = Q::each("SELECT datetime('now')", "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')");

/// The framework version.
#[get("/version", authorize = "OPEN")]
fn get_version() -> Json<&'static str> {
    Json(env!("CARGO_PKG_VERSION"))
}

/// The database's current UTC time.
#[get("/now", authorize = "OPEN")]
async fn get_now(db: Db) -> Result<Json<String>> {
    let (now,): (String,) = db.one(NOW, vec![]).await?.ok_or_else(|| Error::internal("no time"))?;
    Ok(Json(now))
}

/// The identity if the request authenticates, else `null`.
#[get("/who", authorize = "OPEN")]
fn get_who(user: Option<CurrentUser>) -> Json<Option<CurrentUser>> {
    Json(user)
}

/// Stores an uploaded file in the upload directory under a random name.
#[post("/upload", authorize = "OPEN")]
async fn post_upload(file: UploadedFile, dir: State<UploadDir>) -> Result<(String, u16)> {
    let name = format!("{}.tmp", uuid::Uuid::new_v4());
    tokio::fs::write(dir.file(&name), &file.content).await?;
    Ok((format!("{} ({}) saved as {name}", file.filename, file.mimetype()), 201))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_version, get_now, get_who, post_upload]
}
