//! Logging through `tracing`: one `request` span per request carrying method, route, login and
//! status, and never a password, token or secret in a log line (checked with a capturing
//! subscriber installed for this whole test binary).

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use fsa::config::parse_env_value;
use fsa::prelude::*;

#[get("/auth", authorize = "AUTH")]
fn auth(user: CurrentUser) -> String {
    format!("hello {user}")
}

#[get("/boom", authorize = "OPEN")]
fn boom() -> &'static str {
    panic!("kaboom")
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PASSWORD: &str = "Hobbes-Pa55word";
const WRONG: &str = "Wr0ng-Guess-42";
const SECRET: &str = "token-secret-that-must-stay-hidden";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_and_no_secrets_in_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut b = App::new()
        .get_user_pass(|login| async move { Ok((login == "calvin").then(|| PASSWORD.to_owned())) })
        .routes(fsa::routes![auth, boom]);
    for (k, v) in [
        ("FSA_AUTH", r#"["token", "basic", "param", "none"]"#),
        ("FSA_PASSWORD_SCHEME", "plaintext"),
        ("FSA_TOKEN_SECRET", SECRET),
        ("FSA_MODE", "debug4"),
        ("FSA_LOGGING_LEVEL", "trace"),
    ] {
        b = b.config(k, parse_env_value(v));
    }
    let app = b.build().unwrap();
    // A subscriber is already installed: fsa leaves it alone.
    fsa::init_logging(app.config());
    assert_eq!(app.config().logging_level.as_deref(), Some("trace"));
    for bad in ["loud", "fsa=loud", "info,fsa::x=[1"] {
        assert!(fsa::Config::default().set("FSA_LOGGING_LEVEL", bad).is_err(), "{bad}");
    }
    let mut c = fsa::Config::default();
    c.set("FSA_LOGGING_LEVEL", 10).unwrap();
    assert_eq!(c.logging_level.as_deref(), Some("debug"));
    c.set("FSA_LOGGING_LEVEL", "WARNING").unwrap();
    assert_eq!(c.logging_level.as_deref(), Some("warn"));
    let c = app.test_client();
    let token = app.create_token("calvin", Default::default()).unwrap();

    assert_eq!(c.get("/auth").basic("calvin", PASSWORD).await.status(), 200);
    assert_eq!(c.get("/auth").basic("calvin", WRONG).await.status(), 401);
    assert_eq!(c.get("/auth").basic("hobbes", WRONG).await.status(), 401);
    assert_eq!(c.get("/auth").query(&[("USER", "calvin"), ("PASS", PASSWORD)]).await.status(), 200);
    assert_eq!(c.get("/auth").query(&[("USER", "calvin"), ("PASS", WRONG)]).await.status(), 401);
    assert_eq!(c.get("/auth").bearer(&token).await.status(), 200);
    // Another last signature character (the real one may be '0').
    let other = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{other}", &token[..token.len() - 1]);
    assert_eq!(c.get("/auth").bearer(&forged).await.status(), 401);
    assert_eq!(c.get("/boom").await.status(), 500);

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    // One span per request, with its fields.
    assert!(logs.contains("request{method=GET path=/auth route=/auth login=calvin status=200}"), "{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    assert!(logs.contains("handler panicked: kaboom"), "{logs}");
    // No secret of any kind.
    let signature = token.rsplit(':').next().unwrap();
    let basic = |p: &str| base64::engine::general_purpose::STANDARD.encode(format!("calvin:{p}"));
    for secret in [PASSWORD, WRONG, SECRET, &token, &forged, signature, &basic(PASSWORD), &basic(WRONG)] {
        assert!(!logs.contains(secret), "{secret} found in the logs:\n{logs}");
    }
}
