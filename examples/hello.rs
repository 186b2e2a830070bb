//! The smallest fsa service: open, authenticated and closed routes, typed parameters.
//!
//! ```sh
//! cargo run --example hello          # PORT=5000 by default
//! curl -u calvin:hobbes http://127.0.0.1:5000/me
//! ```

use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
fn hello() -> &'static str {
    "hello world!"
}

#[get("/me", authorize = "AUTH", auth = "basic")]
fn me(user: CurrentUser) -> String {
    format!("hello {user}!")
}

#[get("/closed", authorize = "CLOSE")]
fn closed() -> &'static str {
    "never"
}

#[get("/add/<a>", authorize = "OPEN")]
fn add(a: i64, b: i64) -> Json<i64> {
    Json(a + b)
}

/// The app, shared with the example's tests.
async fn app() -> Result<App, fsa::ConfigError> {
    // One user, calvin/hobbes, stored as a bcrypt hash like a real user table would.
    let hash = App::new().build()?.hash_password_unchecked("hobbes").await?;
    App::from_env()
        .config("FSA_AUTH", "basic")
        .config("FSA_REALM", "hello")
        .get_user_pass(move |login| {
            let stored = (login == "calvin").then(|| hash.clone());
            async move { Ok(stored) }
        })
        .routes(fsa::routes![hello, me, closed, add])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let app = app().await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("hello example on http://{addr}/");
    println!("try: curl -u calvin:hobbes http://{addr}/me");
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_behave_as_documented() {
        let app = app().await.unwrap();
        let c = app.test_client();
        let r = c.get("/hello").await;
        assert_eq!(r.status(), 200);
        assert!(r.text().contains("hello"));
        let r = c.get("/me").basic("calvin", "hobbes").await;
        assert_eq!((r.status(), r.text().contains("calvin")), (200, true));
        let r = c.get("/me").await;
        assert_eq!(r.status(), 401);
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
        assert_eq!(c.get("/me").basic("calvin", "nope").await.status(), 401);
        assert_eq!(c.get("/closed").await.status(), 403);
        let r = c.get("/add/1?b=2").await;
        assert_eq!((r.status(), r.text()), (200, "3\n".to_owned()));
        assert_eq!(c.get("/add/x?b=1").await.status(), 404);
        for uri in ["/add/1", "/add/1?b=x", "/add/1?b=2&c=3"] {
            let r = c.get(uri).await;
            assert_eq!(r.status(), 400, "{uri}");
        }
        assert!(c.get("/add/1").await.text().contains("\"b\""));
        assert!(c.get("/add/1?b=x").await.text().contains("\"b\""));
        assert!(c.get("/add/1?b=2&c=3").await.text().contains("\"c\""));
        let r = c.post("/hello").await;
        assert_eq!(r.status(), 405);
        assert!(r.header("allow").unwrap().contains("GET"));
        assert_eq!(c.get("/nope").await.status(), 404);
    }
}
