//! Two-step (multi-factor) authentication with an intermediate token of its own realm.
//!
//! 1. `GET /login1` with HTTP Basic (calvin / hobbes) answers a 10-minute token of realm
//!    `login1` and "sends" a 6-digit code (printed on stdout: `code for calvin: 123456`).
//! 2. `GET /login2?code=…` accepts only `login1` tokens (route `realm = "login1"`), checks the
//!    code and answers the final token, created explicitly for the app realm.
//! 3. Every other route uses `FSA_AUTH = "token"`: only final tokens open them.
//!
//! ```sh
//! cargo run --example mfa            # PORT=5000 by default
//! T1=$(curl -s -u calvin:hobbes http://127.0.0.1:5000/login1 | tr -d '"')
//! T2=$(curl -s -H "Authorization: Bearer $T1" "http://127.0.0.1:5000/login2?code=<code>" | tr -d '"')
//! curl -H "Authorization: Bearer $T2" http://127.0.0.1:5000/secret
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use fsa::prelude::*;

/// Pending second-factor codes: login → (code, failed attempts).
#[derive(Default)]
struct Codes(Mutex<HashMap<String, (String, u32)>>);

/// Wrong codes allowed before the pending code is dropped (a new `/login1` is then needed).
const MAX_ATTEMPTS: u32 = 3;

/// Six random digits (UUID v4 randomness from the OS generator).
fn new_code() -> String {
    format!("{:06}", uuid::Uuid::new_v4().as_u128() % 1_000_000)
}

/// First factor: password. Answers an intermediate token that only `/login2` accepts.
#[get("/login1", authorize = "AUTH", auth = "basic")]
async fn login1(app: App, user: CurrentUser, codes: State<Codes>) -> fsa::Result<Json<String>> {
    let code = new_code();
    codes.0.0.lock()?.insert(user.0.clone(), (code.clone(), 0));
    // Stands for an e-mail or a text message.
    println!("code for {user}: {code}");
    let token = app.create_token(&user, TokenOptions::realm("login1").delay(10.0))?;
    Ok(Json(token))
}

/// Second factor: the code, with a `login1` token. Answers the final token.
#[get("/login2", authorize = "AUTH", auth = "token", realm = "login1")]
async fn login2(app: App, user: CurrentUser, code: String, codes: State<Codes>) -> fsa::Result<Json<String>> {
    {
        let mut pending = codes.0.0.lock()?;
        let Some((expected, attempts)) = pending.get_mut(&user.0) else {
            return Err(Error::unauthorized("no pending validation code, call /login1 again"));
        };
        if *expected != code {
            *attempts += 1;
            if *attempts >= MAX_ATTEMPTS {
                pending.remove(&user.0);
            }
            return Err(Error::unauthorized("invalid validation code"));
        }
        pending.remove(&user.0);
    }
    // App::create_token uses the app realm: the final token, not another login1 token.
    Ok(Json(app.create_token(&user, TokenOptions::default())?))
}

/// A protected route: final tokens only.
#[get("/secret", authorize = "AUTH")]
async fn secret(user: CurrentUser) -> String {
    format!("the secret of {user}")
}

/// The app, shared with the example's tests.
async fn app() -> Result<App, fsa::ConfigError> {
    // One user, calvin/hobbes, stored as a bcrypt hash like a real user table would.
    let hash = App::new().build()?.hash_password_unchecked("hobbes").await?;
    App::from_env()
        .config("FSA_AUTH", "token")
        .config("FSA_REALM", "mfa")
        .state(Codes::default())
        .get_user_pass(move |login| {
            let stored = (login == "calvin").then(|| hash.clone());
            async move { Ok(stored) }
        })
        .routes(fsa::routes![login1, login2, secret])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let app = app().await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("mfa example on http://{addr}/ (calvin / hobbes)");
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending_code(app: &App, login: &str) -> String {
        let codes = app.state::<Codes>().unwrap();
        let guard = codes.0.lock().unwrap();
        guard.get(login).map(|(c, _)| c.clone()).unwrap()
    }

    fn token_of(r: &fsa::TestResponse) -> String {
        assert_eq!(r.status(), 200, "{}", r.text());
        r.json().as_str().expect("a JSON string").to_owned()
    }

    #[tokio::test]
    async fn two_step_login() {
        let app = app().await.unwrap();
        let c = app.test_client();
        // Nothing, or a password, does not open protected routes.
        assert_eq!(c.get("/secret").await.status(), 401);
        assert_eq!(c.get("/secret").basic("calvin", "hobbes").await.status(), 401);
        // Step 1.
        let r = c.get("/login1").await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"mfa\""));
        assert_eq!(c.get("/login1").basic("calvin", "tiger").await.status(), 401);
        let t1 = token_of(&c.get("/login1").basic("calvin", "hobbes").await);
        assert!(t1.starts_with("login1:calvin:"), "{t1}");
        let code = pending_code(&app, "calvin");
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        // The intermediate token opens nothing but /login2.
        assert_eq!(c.get("/secret").bearer(&t1).await.status(), 401);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = c.get("/login2").query(&[("code", wrong)]).bearer(&t1).await;
        assert_eq!(r.status(), 401);
        assert!(r.text().contains("code"), "{}", r.text());
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"login1\""));
        assert_eq!(c.get("/login2").query(&[("code", &code)]).basic("calvin", "hobbes").await.status(), 401);
        assert_eq!(c.get("/login2").query(&[("code", &code)]).await.status(), 401);
        // Step 2.
        let t2 = token_of(&c.get("/login2").query(&[("code", &code)]).bearer(&t1).await);
        assert!(t2.starts_with("mfa:calvin:"), "{t2}");
        let r = c.get("/secret").bearer(&t2).await;
        assert_eq!((r.status(), r.text()), (200, "the secret of calvin".to_owned()));
        // The final token is not a login1 token, and a code is used once.
        assert_eq!(c.get("/login2").query(&[("code", &code)]).bearer(&t2).await.status(), 401);
        assert_eq!(c.get("/login2").query(&[("code", &code)]).bearer(&t1).await.status(), 401);
    }

    /// One HTTP/1.1 request on a real socket: (status, body).
    fn http_get(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        (status, body.to_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_step_login_over_a_socket() {
        let app = app().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.clone().serve_listener(listener, async move {
            let _ = stopped.await;
        }));
        let codes = app.clone();
        let flow = tokio::task::spawn_blocking(move || {
            use base64::Engine;
            let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("calvin:hobbes"));
            let (status, body) = http_get(addr, "/login1", &[("Authorization", &basic)]);
            assert_eq!(status, 200, "{body}");
            let t1: String = serde_json::from_str(&body).unwrap();
            let code = pending_code(&codes, "calvin");
            let bearer1 = format!("Bearer {t1}");
            assert_eq!(http_get(addr, "/secret", &[("Authorization", &bearer1)]).0, 401);
            let (status, body) = http_get(addr, &format!("/login2?code={code}"), &[("Authorization", &bearer1)]);
            assert_eq!(status, 200, "{body}");
            let t2: String = serde_json::from_str(&body).unwrap();
            let (status, body) = http_get(addr, "/secret", &[("Authorization", &format!("Bearer {t2}"))]);
            assert_eq!((status, body.as_str()), (200, "the secret of calvin"));
            assert_eq!(http_get(addr, "/secret", &[("Authorization", &basic)]).0, 401);
            assert_eq!(http_get(addr, "/secret", &[]).0, 401);
        })
        .await;
        let _ = stop.send(());
        server.await.unwrap().unwrap();
        flow.unwrap();
    }

    #[tokio::test]
    async fn codes_die_after_too_many_attempts() {
        let app = app().await.unwrap();
        let c = app.test_client();
        let t1 = token_of(&c.get("/login1").basic("calvin", "hobbes").await);
        let code = pending_code(&app, "calvin");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(c.get("/login2").query(&[("code", wrong)]).bearer(&t1).await.status(), 401);
        }
        assert_eq!(c.get("/login2").query(&[("code", &code)]).bearer(&t1).await.status(), 401);
    }
}
