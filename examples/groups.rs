//! Group authorizations, after the recipes "How-to use simple group authorizations?" and
//! "How-to factor-out all group authorizations?".
//!
//! - one group checked by its own hook: `group_check("admin", hook)`;
//! - every other group through one generic hook: `user_in_group(hook)`, groups being names or
//!   numbers;
//! - `authorize = ["reader", "writer"]` needs both;
//! - declaring the groups (`FSA_AUTHZ_GROUPS` or `add_group`) makes a typo in a route a build
//!   error instead of a route nobody can call.
//!
//! ```sh
//! cargo run --example groups          # PORT=5000 by default
//! curl -u calvin:hobbes http://127.0.0.1:5000/admin
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use fsa::Group;
use fsa::prelude::*;

#[get("/admin", authorize = "admin")]
fn admin_only(user: CurrentUser) -> String {
    format!("welcome, administrator {user}")
}

#[get("/read", authorize = "reader")]
fn read(user: CurrentUser) -> String {
    format!("{user} may read")
}

#[get("/edit", authorize = ["reader", "writer"])]
fn edit(user: CurrentUser) -> String {
    format!("{user} may read and write")
}

/// Group 7 is "staff" in the user database: numeric groups work too.
#[get("/staff", authorize = 7)]
fn staff(user: CurrentUser) -> String {
    format!("{user} is staff")
}

/// The application's user table: password and group memberships.
struct Users {
    hashes: HashMap<&'static str, String>,
    groups: HashMap<&'static str, Vec<Group>>,
}

/// The app, shared with the tests.
async fn app() -> Result<App, fsa::ConfigError> {
    let hasher = App::new().build()?;
    let mut hashes = HashMap::new();
    for (login, password) in [("calvin", "hobbes"), ("susie", "derkins"), ("moe", "bully")] {
        let hash = hasher.hash_password_unchecked(password).await?;
        hashes.insert(login, hash);
    }
    let groups = HashMap::from([
        ("calvin", vec![Group::from("reader"), Group::from("writer"), Group::from(7)]),
        ("susie", vec![Group::from("reader")]),
    ]);
    let users = Arc::new(Users { hashes, groups });
    let (u1, u2) = (users.clone(), users);
    App::from_env()
        .config("FSA_AUTH", "basic")
        .config("FSA_REALM", "groups")
        // Declared groups: a route naming another group is refused by build().
        .config("FSA_AUTHZ_GROUPS", vec!["reader", "writer"])
        .add_group(7)
        .get_user_pass(move |login| {
            let stored = u1.hashes.get(login.as_str()).cloned();
            async move { Ok(stored) }
        })
        // Simple group authorization: one hook for one group (it declares the group).
        .group_check("admin", |login: String| async move { Ok(login == "calvin") })
        // Factored-out group authorization: one hook for all the other groups.
        .user_in_group(move |login: String, group: Group| {
            let member = u2.groups.get(login.as_str()).is_some_and(|gs| gs.contains(&group));
            async move { Ok(member) }
        })
        .routes(fsa::routes![admin_only, read, edit, staff])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let app = app().await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("groups example on http://{addr}/ (users calvin/hobbes, susie/derkins, moe/bully)");
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn groups_as_documented() {
        let app = app().await.unwrap();
        let c = app.test_client();
        let get = |path: &str, login: &str, password: &str| c.get(path).basic(login, password);
        assert_eq!(get("/admin", "calvin", "hobbes").await.status(), 200);
        let r = get("/admin", "susie", "derkins").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().contains("\"admin\""));
        assert_eq!(c.get("/admin").await.status(), 401);
        assert_eq!(get("/read", "susie", "derkins").await.text(), "susie may read");
        assert_eq!(get("/read", "moe", "bully").await.status(), 403);
        assert_eq!(get("/edit", "calvin", "hobbes").await.status(), 200);
        let r = get("/edit", "susie", "derkins").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().contains("\"writer\""));
        assert_eq!(get("/staff", "calvin", "hobbes").await.status(), 200);
        assert_eq!(get("/staff", "susie", "derkins").await.status(), 403);
    }

    #[tokio::test]
    async fn undeclared_groups_are_refused() {
        #[get("/typo", authorize = "raeder")]
        fn typo() -> &'static str {
            "never"
        }
        let err = App::new()
            .config("FSA_AUTH", "basic")
            .config("FSA_AUTHZ_GROUPS", vec!["reader"])
            .user_in_group(|_login: String, _group: Group| async move { Ok(true) })
            .routes(fsa::routes![typo])
            .build()
            .unwrap_err();
        assert!(err.0.contains("/typo") && err.0.contains("\"raeder\""), "{}", err.0);
    }
}
